/**
 * Reading the NHS Organisation Data Service (ODS) headerless CSV extracts into directory organisations:
 * `etr.csv` (NHS trusts), `ets.csv` (NHS trust sites) and `epraccur.csv` (GP practices).
 *
 * The files have no header row, so the layout is fixed by position. All three share the standard ODS
 * layout (1-based column numbers, as ODS numbers them):
 *
 *    1 Organisation Code          10 Postcode                   15 Parent / commissioner code
 *    2 Name                       11 Open Date (YYYYMMDD)       16 Join Parent Date
 *    3 National Grouping          12 Close Date (YYYYMMDD)      17 Left Parent Date
 *    4 High Level Health Geog.    13 Status Code (epraccur)     18 Contact Telephone Number
 *  5-9 Address Lines 1-5          14 Organisation Sub-Type      22 Amended Record Indicator
 *
 * Per file:
 *  - etr: columns 13-21 are empty (no parent; no telephone in the samples seen); 24 is the GOR code.
 *  - ets: 14 is the site sub-type (M treatment centre, X ePACT site), 15 the parent NHS trust's code.
 *  - epraccur: 13 is the status - A/C/D/P letters in older extracts, words (ACTIVE, INACTIVE, DORMANT) in
 *    current ones - 14 the sub-type, 15 the commissioner (a sub-ICB location such as 16C), 18 the practice
 *    phone, 24 the provider/purchaser, 26 the prescribing setting (4 = GP practice) in older extracts and a
 *    role code (RO76) in current ones.
 * Current extracts have 27 columns, every field quoted; older etr extracts had 24, unquoted unless needed.
 * Address lines: current extracts put the post town in line 4 and the county (often empty) in line 5;
 * older epraccur extracts packed the lines upwards, so the town could be in line 2, 3 or 4 with the
 * county after it (see pickTown).
 *
 * Sources (no raw ets.csv was found in a public repository; its layout rests on the three descriptions):
 *  - ODS Data Search and Export getReport notes, as quoted in kanedata/find-that-charity
 *    ftc/management/commands/import_nhsods.py: reports (etr, ets, epraccur, etrust, etreat, ...) are CSV
 *    "with no headers, consistent with legacy ODS .csv files"; specifications are in the ODS Reference
 *    Data Catalogue (https://www.odsdatasearchandexport.nhs.uk/referenceDataCatalogue/).
 *  - Column names: datagovuk/health-schemas etr.json, ets.json, epraccur.json (field names, incl. "Parent
 *    Organisation Code" for ets and "Status Code", "Commissioner" for epraccur); the same import_nhsods.py
 *    (27-column layout, 15 = Parent Organisation Code, 18 = Contact Telephone Number);
 *    psychty/secondary_care R_Scripts/Retrieve_registered_patient_and_organisation_data.R (reads ets.csv
 *    with 14 = Org_sub_type M/X, 15 = Parent_NHS_Trust_Code, 18 = Telephone);
 *    ebmdatalab/open-nhs-hospital-use-data scripts/get_data.R (etr layout "from etr.pdf").
 *  - Real rows: psychty/wsx_covid_datapack_public etr.csv (current quoted 27-column etr, e.g. R1H BARTS
 *    HEALTH NHS TRUST); jah-photoshop/nhsparse etr.csv (older unquoted 24-column etr);
 *    shuc9663-source/GEOG5990_Assignment2_201929754 epraccur.csv (current, ACTIVE/INACTIVE/DORMANT);
 *    psychty/primary-care-geographies epraccur.csv (older, A/C status letters, packed address lines).
 */
import { isIsoDate } from '../domain/dates.ts';
import { ODS_CODE_RE, type OrganisationInput } from './types.ts';

export type OdsFileKind = 'trusts' | 'sites' | 'gp-practices';

export interface OdsParseResult {
  /** Open organisations only. */
  organisations: OrganisationInput[];
  /** Rows closed on or before `today` (close date), or epraccur rows whose status is closed or dormant. */
  skippedClosed: number;
  /** Rows that could not be read; `line` is the 1-based line on which the row starts. */
  problems: { line: number; message: string }[];
}

/** 0-based column indexes of the fields read. */
const COL = {
  code: 0,
  name: 1,
  address1: 4,
  address5: 8,
  postcode: 9,
  closeDate: 11,
  status: 12,
  parent: 14,
  phone: 17,
} as const;

/**
 * The fewest columns a row must have to be read: everything up to the close date (and, for practices, the
 * status). Later columns (parent, phone) are read when present; a row cut short there just lacks them.
 */
const MIN_COLUMNS: Record<OdsFileKind, number> = { trusts: 12, sites: 12, 'gp-practices': 13 };

/** epraccur status values (letters in older extracts, words in current ones) meaning "not open". */
// P / PROPOSED (not yet open) is not in the list: such a practice is kept, as nothing says it has closed.
const CLOSED_STATUSES = new Set(['C', 'CLOSED', 'INACTIVE', 'D', 'DORMANT']);

/**
 * Guess the kind from a file name (etr*.csv -> trusts, ets*.csv -> sites, epraccur*.csv -> gp-practices),
 * or null. The stem must not continue with a letter: ODS also publishes etrust.csv (trusts and sites
 * mixed) and etreat.csv (treatment centres), which are not trust files. Dated or amendment-file names
 * such as "etr_changes_20250301_to_20250424.csv" or "ets (1).csv" are recognised.
 */
export function detectOdsKind(fileName: string): OdsFileKind | null {
  const base = (fileName.split(/[\\/]/).pop() ?? '').trim().toLowerCase();
  const m = /^(etr|ets|epraccur)(?:[^a-z].*)?\.csv$/.exec(base);
  if (!m) return null;
  if (m[1] === 'etr') return 'trusts';
  if (m[1] === 'ets') return 'sites';
  return 'gp-practices';
}

/**
 * Parse ODS CSV text. `today` ('YYYY-MM-DD') decides which close dates are in the past: a row whose close
 * date is on or before it is counted in skippedClosed; a close date still to come leaves the row open.
 */
export function parseOdsCsv(text: string, kind: OdsFileKind, today: string): OdsParseResult {
  if (!isIsoDate(today)) throw new RangeError(`today must be a YYYY-MM-DD date, got "${today}"`);
  const todayCompact = today.replaceAll('-', '');
  const records = parseCsvRecords(text).filter((r) => !isBlankRow(r.fields));

  const organisations: OrganisationInput[] = [];
  const problems: OdsParseResult['problems'] = [];
  let skippedClosed = 0;
  const seen = new Map<string, number>();
  const usualWidth = modalWidth(records.map((r) => r.fields.length));
  const minColumns = MIN_COLUMNS[kind];

  for (const { line, fields } of records) {
    const problem = (message: string) => problems.push({ line, message });
    if (fields.length < minColumns) {
      problem(`has ${fields.length} columns; an ODS ${kind} row needs at least ${minColumns}`);
      continue;
    }
    if (fields.length > usualWidth) {
      // More columns than the rest of the file: most likely an unquoted comma, which shifts every field.
      problem(`has ${fields.length} columns but the rest of the file has ${usualWidth}`);
      continue;
    }
    const field = (i: number) => (fields[i] ?? '').trim();

    const odsCode = field(COL.code);
    if (!odsCode) {
      problem('missing organisation code');
      continue;
    }
    if (!ODS_CODE_RE.test(odsCode)) {
      problem(`bad organisation code "${odsCode}" (expected 3 to 10 upper-case letters and digits)`);
      continue;
    }
    const rawName = field(COL.name);
    if (!rawName) {
      problem(`missing name for ${odsCode}`);
      continue;
    }
    const closeDate = field(COL.closeDate);
    if (closeDate && !isCompactDate(closeDate)) {
      problem(`bad close date "${closeDate}" for ${odsCode} (expected YYYYMMDD)`);
      continue;
    }
    const firstLine = seen.get(odsCode);
    if (firstLine !== undefined) {
      problem(`duplicate organisation code ${odsCode} (first on line ${firstLine}); row ignored`);
      continue;
    }
    seen.set(odsCode, line);

    const closed =
      (closeDate !== '' && closeDate <= todayCompact) ||
      (kind === 'gp-practices' && CLOSED_STATUSES.has(field(COL.status).toUpperCase()));
    if (closed) {
      skippedClosed++;
      continue;
    }

    const addressLines: string[] = [];
    for (let i = COL.address1; i <= COL.address5; i++) addressLines.push(field(i));
    const town = pickTown(addressLines);
    const postcode = field(COL.postcode).toUpperCase().replace(/\s+/g, ' ');
    const phone = field(COL.phone);

    organisations.push({
      odsCode,
      name: titleCaseOdsName(rawName),
      setting: kind === 'trusts' ? 'trust' : kind === 'gp-practices' ? 'gp-practice' : 'other',
      parentOdsCode: kind === 'sites' ? siteParent(odsCode, field(COL.parent)) : null,
      town: town ? titleCaseOdsName(town) : null,
      phone: phone || null,
      postcode: postcode || null,
    });
  }
  return { organisations, skippedClosed, problems };
}

/**
 * The trust a site belongs to. ets carries it in column 15 (Parent Organisation Code), which is
 * authoritative; a site code is its trust's 3-character code plus two characters (R1H12 -> R1H), which is
 * used only when the column is empty or unreadable.
 *
 * Practices (epraccur) get no parent: their column 15 is the commissioner (a sub-ICB location), which is
 * not an organisation a health user works in, and not in this directory. Trusts have no parent.
 */
function siteParent(siteCode: string, parentColumn: string): string | null {
  if (ODS_CODE_RE.test(parentColumn) && parentColumn !== siteCode) return parentColumn;
  return siteCode.length > 3 ? siteCode.slice(0, 3) : null;
}

function isCompactDate(s: string): boolean {
  return /^\d{8}$/.test(s) && isIsoDate(`${s.slice(0, 4)}-${s.slice(4, 6)}-${s.slice(6, 8)}`);
}

function isBlankRow(fields: string[]): boolean {
  return fields.every((f) => f.trim() === '');
}

/** The commonest row width (the wider on a tie). */
function modalWidth(widths: number[]): number {
  const counts = new Map<number, number>();
  for (const w of widths) counts.set(w, (counts.get(w) ?? 0) + 1);
  let best = 0;
  let bestCount = 0;
  for (const [w, n] of counts) {
    if (n > bestCount || (n === bestCount && w > best)) {
      best = w;
      bestCount = n;
    }
  }
  return best;
}

// ---------------------------------------------------------------------------------------------------
// Town

/**
 * Counties (ceremonial, former and postal) as they appear in ODS address lines. Only names that are never
 * themselves a post town: "DURHAM" is a city, so only "COUNTY DURHAM"/"CO DURHAM" are listed.
 */
const COUNTIES = new Set([
  'AVON',
  'BEDFORDSHIRE',
  'BERKSHIRE',
  'BUCKINGHAMSHIRE',
  'CAMBRIDGESHIRE',
  'CHESHIRE',
  'CLEVELAND',
  'CORNWALL',
  'CO DURHAM',
  'COUNTY DURHAM',
  'CUMBRIA',
  'DERBYSHIRE',
  'DEVON',
  'DORSET',
  'EAST SUSSEX',
  'EAST YORKSHIRE',
  'EAST RIDING OF YORKSHIRE',
  'ESSEX',
  'GLOUCESTERSHIRE',
  'GREATER LONDON',
  'GREATER MANCHESTER',
  'HAMPSHIRE',
  'HEREFORDSHIRE',
  'HERTFORDSHIRE',
  'HUMBERSIDE',
  'NORTH HUMBERSIDE',
  'SOUTH HUMBERSIDE',
  'ISLE OF WIGHT',
  'KENT',
  'LANCASHIRE',
  'LEICESTERSHIRE',
  'LINCOLNSHIRE',
  'MERSEYSIDE',
  'MIDDLESEX',
  'NORFOLK',
  'NORTHAMPTONSHIRE',
  'NORTHUMBERLAND',
  'NORTH YORKSHIRE',
  'NOTTINGHAMSHIRE',
  'OXFORDSHIRE',
  'RUTLAND',
  'SHROPSHIRE',
  'SOMERSET',
  'SOUTH YORKSHIRE',
  'STAFFORDSHIRE',
  'SUFFOLK',
  'SURREY',
  'TYNE AND WEAR',
  'TYNE & WEAR',
  'WARWICKSHIRE',
  'WEST MIDLANDS',
  'WEST SUSSEX',
  'WEST YORKSHIRE',
  'WILTSHIRE',
  'WORCESTERSHIRE',
  // Wales (epraccur covers England and Wales)
  'CLWYD',
  'DYFED',
  'GWENT',
  'GWYNEDD',
  'MID GLAMORGAN',
  'POWYS',
  'SOUTH GLAMORGAN',
  'WEST GLAMORGAN',
]);

const isCounty = (s: string) => COUNTIES.has(s.toUpperCase().replace(/\s+/g, ' '));

/**
 * The post town among address lines 1-5. Current extracts put it in line 4, which is used unless it is a
 * county. Otherwise (older epraccur rows packed upwards, e.g. "378 LINTHORPE ROAD","MIDDLESBROUGH",
 * "CLEVELAND","","") the last line that is neither a county nor a street address (starting with a digit)
 * is taken. A line holding "locality, town" or "town, county" ("LINTHORPE, MIDDLESBROUGH",
 * "YARM, CLEVELAND") gives its last part that is not a county.
 */
export function pickTown(addressLines: string[]): string | null {
  const lines = addressLines.map((l) => l.trim());
  let chosen: string | undefined;
  const line4 = lines[3] ?? '';
  if (line4 && !isCounty(line4)) {
    chosen = line4;
  } else {
    for (let i = lines.length - 1; i >= 0; i--) {
      const l = lines[i] ?? '';
      if (l && !isCounty(l) && !/^\d/.test(l)) {
        chosen = l;
        break;
      }
    }
  }
  if (!chosen) return null;
  if (chosen.includes(',')) {
    const parts = chosen
      .split(',')
      .map((p) => p.trim())
      .filter((p) => p && !isCounty(p));
    chosen = parts[parts.length - 1] ?? chosen;
  }
  return chosen;
}

// ---------------------------------------------------------------------------------------------------
// Title case

/** Kept in capitals wherever they appear. */
const KEEP_UPPER = new Set([
  'NHS',
  'GP',
  'GPS',
  'UTC',
  'MIU',
  'ENT',
  'UK',
  'ICB',
  'ICS',
  'CIC',
  'ICU',
  'NICU',
  'PICU',
  'HDU',
  'ITU',
  'AMU',
  'CAMHS',
  'IAPT',
  'SDEC',
  'OOH',
  'II',
  'III',
  'IV',
  'VI',
  'VII',
  'VIII',
  'IX',
  'XI',
]);

/**
 * Short vowel-less words that are abbreviations rather than acronyms ("ST THOMAS'", "DR RASOOL",
 * "MEDICAL CTR"), so they are title-cased despite the no-vowel rule.
 */
const ABBREVIATIONS = new Set([
  'ST',
  'STS',
  'DR',
  'DRS',
  'MR',
  'MRS',
  'MS',
  'MT',
  'RD',
  'SQ',
  'PK',
  'CT',
  'CL',
  'PL',
  'CTR',
  'CNTR',
  'HLTH',
  'GRP',
  'BLDG',
  'BLDGS',
  'STN',
  'TWR',
  'WLK',
  'GDNS',
  'LTD',
  'SVCS',
  'SRVS',
]);

/** Lower case unless first ("Guy's and St Thomas'", "Kingston upon Thames"). */
const SMALL_WORDS = new Set([
  'and',
  'of',
  'the',
  'for',
  'in',
  'on',
  'at',
  'by',
  'to',
  'upon',
  'under',
  'with',
]);

/** Lower case between hyphens ("Stoke-on-Trent", "Weston-super-Mare", "Chapel-en-le-Frith"). */
const HYPHEN_SMALL_WORDS = new Set([...SMALL_WORDS, 'le', 'la', 'en', 'de', 'super', 'sur', 'cum', 'next']);

const VOWEL_RE = /[AEIOUY]/;

/**
 * ODS names and towns are upper case ("THE ROYAL LONDON HOSPITAL"); make them readable ("The Royal London
 * Hospital"). Keeps NHS, GP, UTC, MIU, ENT, other listed acronyms and 2-4 letter words without vowels
 * (HMP, CMHT, BDCT) in capitals; lower-cases "and", "of", "the", ... when not first and "on", "under",
 * "super", ... inside hyphenated names; "Mc" names get a capital after the prefix (McKenzie) but "Mac"
 * ones do not (Macmillan, Macclesfield); apostrophes: King's, St Thomas', O'Brien; ordinals: 2nd.
 * Text that is not all upper case is returned unchanged, as someone has already cased it.
 */
export function titleCaseOdsName(name: string): string {
  const text = name.trim().replace(/\s+/g, ' ');
  if (text !== text.toUpperCase()) return text;
  // Words are runs of letters, digits, apostrophes and ampersands; everything else separates them.
  const tokens = text.match(/[A-Z0-9'’&]+|[^A-Z0-9'’&]+/g) ?? [];
  let out = '';
  let wordIndex = 0;
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i] ?? '';
    if (!/[A-Z0-9]/.test(token)) {
      out += token;
      continue;
    }
    const before = tokens[i - 1] ?? '';
    const after = tokens[i + 1] ?? '';
    const startsPhrase = wordIndex === 0 || /[(:]\s*$/.test(before) || /\s[-–]\s$/.test(before);
    const betweenHyphens = before === '-' && after === '-';
    out += caseWord(token, startsPhrase, betweenHyphens);
    wordIndex++;
  }
  return out;
}

function caseWord(word: string, startsPhrase: boolean, betweenHyphens: boolean): string {
  if (KEEP_UPPER.has(word) || word.includes('&')) return word;
  const lower = word.toLowerCase();
  if (!startsPhrase) {
    if (betweenHyphens && HYPHEN_SMALL_WORDS.has(lower)) return lower;
    if (!betweenHyphens && SMALL_WORDS.has(lower)) return lower;
  }
  // Numbers: ordinals lower-cased (2ND -> 2nd), anything else with digits (22B, B15) kept as it is.
  if (/\d/.test(word)) return /^\d+(ST|ND|RD|TH)$/.test(word) ? lower : word;
  if (/^[A-Z]{2,4}$/.test(word) && !VOWEL_RE.test(word) && !ABBREVIATIONS.has(word)) return word;
  return capitaliseName(lower);
}

/** Capitalise an all-lower-case word, with Mc and apostrophe handling. */
function capitaliseName(lower: string): string {
  const apostrophe = lower.search(/['’]/);
  if (apostrophe >= 0) {
    const head = lower.slice(0, apostrophe);
    const mark = lower.charAt(apostrophe);
    const tail = lower.slice(apostrophe + 1);
    // O'Brien, D'Arcy; but King's, Guy's, St Thomas' keep a lower-case tail.
    if ((head === 'o' || head === 'd') && tail.length >= 2) {
      return `${head.toUpperCase()}${mark}${capitaliseName(tail)}`;
    }
    // A leading quote mark ("'T' BLOCK") is not an apostrophe: case what follows it.
    if (!head) return `${mark}${tail ? capitaliseName(tail) : ''}`;
    return `${capitaliseName(head)}${mark}${tail}`;
  }
  if (/^mc[a-z]{2,}$/.test(lower)) return `Mc${upperFirst(lower.slice(2))}`;
  return upperFirst(lower);
}

function upperFirst(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

// ---------------------------------------------------------------------------------------------------
// CSV (RFC 4180)

interface CsvRecord {
  /** 1-based line on which the record starts. */
  line: number;
  fields: string[];
}

/**
 * Split CSV text into rows of fields (RFC 4180): fields in double quotes may hold commas, line breaks and
 * doubled quotes (""); records end at CRLF, LF or a lone CR; a leading byte order mark and a final line
 * break are ignored. It is lenient with malformed input rather than throwing: text after a closing quote
 * is kept, a quote inside an unquoted field is literal, and an unterminated quote runs to the end.
 * Empty lines come back as [''].
 */
export function parseCsvRows(text: string): string[][] {
  return parseCsvRecords(text).map((r) => r.fields);
}

function parseCsvRecords(input: string): CsvRecord[] {
  const text = input.charCodeAt(0) === 0xfeff ? input.slice(1) : input;
  const records: CsvRecord[] = [];
  let fields: string[] = [];
  let field = '';
  let line = 1;
  let recordLine = 1;
  let i = 0;
  const n = text.length;

  const endField = () => {
    fields.push(field);
    field = '';
  };
  const endRecord = () => {
    endField();
    records.push({ line: recordLine, fields });
    fields = [];
  };
  /** If a line break starts at i, step over it (CRLF counts as one) and return true. */
  const skipLineBreak = (): boolean => {
    const c = text[i];
    if (c === '\r') {
      i += text[i + 1] === '\n' ? 2 : 1;
    } else if (c === '\n') {
      i += 1;
    } else {
      return false;
    }
    line++;
    return true;
  };

  while (i < n) {
    if (text[i] === '"' && field === '') {
      // Quoted field: runs to the next quote that is not doubled.
      i++;
      for (;;) {
        if (i >= n) break;
        const c = text[i];
        if (c === '"') {
          if (text[i + 1] === '"') {
            field += '"';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        if (c === '\r' || c === '\n') {
          const start = i;
          skipLineBreak();
          field += text.slice(start, i);
          continue;
        }
        field += c;
        i++;
      }
      continue;
    }
    const c = text[i];
    if (c === ',') {
      endField();
      i++;
    } else if (skipLineBreak()) {
      endRecord();
      recordLine = line;
    } else {
      field += c;
      i++;
    }
  }
  // A final record without a trailing line break (but not the empty "record" after the last one).
  if (field !== '' || fields.length > 0 || (n > 0 && text[n - 1] === '"')) endRecord();
  return records;
}
