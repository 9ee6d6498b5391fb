// Progressive enhancement only: every page works without this script.
import { initAll } from '/assets/nhsuk-frontend.min.js';

// The design system's behaviour: error summaries take focus, conditional questions reveal, and so on.
initAll();

for (const button of document.querySelectorAll('[data-print]')) {
  button.hidden = false;
  button.addEventListener('click', () => window.print());
}
