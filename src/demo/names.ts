/**
 * Name lists for the demo's deterministic synthetic population.
 *
 * Common given names and surnames as registered in England and Wales over births 1985–2025 (drawn
 * from general knowledge of the ONS baby-name tables and of common surnames), spanning the country's
 * many communities. They are just names: no real individual is described by any combination of them.
 * ASCII only, normal capitalisation; surnames include apostrophes and hyphens on purpose, so code
 * that handles names is exercised on them.
 */

export const GIVEN_NAMES_FEMALE: readonly string[] = [
  // Popular in the 2010s–2020s
  'Olivia', 'Amelia', 'Isla', 'Ava', 'Mia', 'Ivy', 'Lily', 'Isabella', 'Rosie', 'Sophia',
  'Grace', 'Freya', 'Willow', 'Florence', 'Emily', 'Ella', 'Poppy', 'Evie', 'Elsie', 'Charlotte',
  'Evelyn', 'Sienna', 'Sofia', 'Daisy', 'Phoebe', 'Alice', 'Harper', 'Matilda', 'Ruby', 'Emilia',
  'Maya', 'Millie', 'Isabelle', 'Mila', 'Aria', 'Luna', 'Nova', 'Hallie', 'Thea', 'Edith',
  'Margot', 'Violet', 'Beatrice', 'Iris', 'Esme', 'Eliza', 'Maisie', 'Harriet', 'Clara', 'Eva',
  'Aurora', 'Penelope', 'Delilah', 'Lola', 'Amelie', 'Orla', 'Layla', 'Zara', 'Arabella', 'Bonnie',
  // Popular in the 1980s–2000s
  'Jessica', 'Chloe', 'Hannah', 'Lucy', 'Megan', 'Amy', 'Lauren', 'Emma', 'Rebecca', 'Sarah',
  'Laura', 'Gemma', 'Samantha', 'Rachel', 'Katie', 'Holly', 'Bethany', 'Abigail', 'Georgia', 'Eleanor',
  'Sophie', 'Jade', 'Stacey', 'Danielle', 'Natalie', 'Nicola', 'Claire', 'Kirsty', 'Hayley', 'Kelly',
  'Michelle', 'Joanne', 'Louise', 'Victoria', 'Stephanie', 'Amber', 'Jodie', 'Leanne', 'Zoe', 'Ellie',
  'Molly', 'Erin', 'Imogen', 'Caitlin', 'Courtney', 'Shannon', 'Chelsea', 'Paige', 'Jasmine', 'Kayleigh',
  'Leah', 'Scarlett', 'Tegan', 'Kiera', 'Tia', 'Naomi', 'Rhiannon', 'Charlene', 'Shanice', 'Chanel',
  // Welsh and Irish
  'Cerys', 'Ffion', 'Seren', 'Carys', 'Nia', 'Lowri', 'Angharad', 'Catrin', 'Alys', 'Mali',
  'Efa', 'Bronwen', 'Niamh', 'Ciara', 'Siobhan', 'Aoife', 'Saoirse',
  // South Asian, Arabic and Muslim heritage
  'Aisha', 'Fatima', 'Maryam', 'Amira', 'Hafsa', 'Zainab', 'Khadija', 'Inaya', 'Anaya', 'Aaliyah',
  'Nadia', 'Priya', 'Sana', 'Ayesha', 'Hana', 'Noor', 'Yasmin', 'Safa', 'Iqra', 'Sadia',
  'Simran', 'Harleen', 'Jasleen', 'Anika', 'Sumaya', 'Ruqayyah', 'Tahmina',
  // African, Caribbean, East Asian and European heritage
  'Precious', 'Blessing', 'Chiamaka', 'Abena', 'Esther', 'Keisha', 'Tanisha', 'Mei', 'Ioana', 'Maria',
  'Julia', 'Natalia', 'Zuzanna', 'Wiktoria', 'Elena', 'Alina', 'Oliwia', 'Gabriela',
];

export const GIVEN_NAMES_MALE: readonly string[] = [
  // Popular in the 2010s–2020s
  'Oliver', 'George', 'Noah', 'Arthur', 'Muhammad', 'Leo', 'Oscar', 'Harry', 'Archie', 'Jack',
  'Henry', 'Charlie', 'Freddie', 'Theodore', 'Thomas', 'Finley', 'Theo', 'Alfie', 'Jacob', 'William',
  'Isaac', 'Tommy', 'Joshua', 'James', 'Lucas', 'Alexander', 'Arlo', 'Roman', 'Edward', 'Elijah',
  'Teddy', 'Albert', 'Mohammed', 'Max', 'Ezra', 'Louie', 'Hudson', 'Reggie', 'Sebastian', 'Ronnie',
  'Jude', 'Rory', 'Caleb', 'Reuben', 'Felix', 'Jasper', 'Ralph', 'Stanley', 'Frankie', 'Ollie',
  'Harvey', 'Toby', 'Finn', 'Austin', 'Louis', 'Hugo', 'Otis', 'Albie', 'Rowan', 'Jesse',
  // Popular in the 1980s–2000s
  'Daniel', 'Samuel', 'Benjamin', 'Joseph', 'Ethan', 'Dylan', 'Logan', 'Mason', 'Harrison', 'Jayden',
  'Kai', 'Riley', 'Tyler', 'Callum', 'Connor', 'Liam', 'Ryan', 'Lewis', 'Kieran', 'Jordan',
  'Nathan', 'Bradley', 'Adam', 'Luke', 'Matthew', 'Christopher', 'David', 'Michael', 'Andrew', 'Richard',
  'Mark', 'Paul', 'Stephen', 'Craig', 'Darren', 'Jamie', 'Scott', 'Lee', 'Dean', 'Wayne',
  'Ben', 'Sam', 'Joe', 'Kyle', 'Aaron', 'Jake', 'Cameron', 'Sean', 'Aidan', 'Robert',
  // Welsh and Irish
  'Gareth', 'Rhys', 'Dafydd', 'Owain', 'Iwan', 'Gethin', 'Cai', 'Osian', 'Aled', 'Huw',
  'Ifan', 'Tomos', 'Elis', 'Ciaran', 'Declan', 'Patrick', 'Conor', 'Padraig',
  // South Asian, Arabic and Muslim heritage
  'Ibrahim', 'Yusuf', 'Ali', 'Omar', 'Hamza', 'Ahmed', 'Zayn', 'Ayaan', 'Aarav', 'Arjun',
  'Rohan', 'Vihaan', 'Dev', 'Rayan', 'Idris', 'Bilal', 'Hassan', 'Ismail', 'Zakariya', 'Musa',
  'Abdullah', 'Harjit', 'Gurpreet', 'Imran', 'Tariq', 'Faisal',
  // African, Caribbean and European heritage
  'Kofi', 'Kwame', 'Tobi', 'Chidi', 'Emeka', 'Olamide', 'Tunde', 'Jerome', 'Marcus', 'Tyrone',
  'Leon', 'Andre', 'Jakub', 'Kacper', 'Filip', 'Szymon', 'Mateusz', 'Luca', 'Matteo', 'Nico',
  'Rafael', 'Gabriel', 'Andrei', 'Darius',
];

export const FAMILY_NAMES: readonly string[] = [
  // The most common surnames in England and Wales
  'Smith', 'Jones', 'Williams', 'Taylor', 'Brown', 'Davies', 'Evans', 'Wilson', 'Thomas', 'Johnson',
  'Roberts', 'Robinson', 'Thompson', 'Wright', 'Walker', 'White', 'Edwards', 'Hughes', 'Green', 'Hall',
  'Lewis', 'Harris', 'Clarke', 'Patel', 'Jackson', 'Wood', 'Turner', 'Martin', 'Cooper', 'Hill',
  'Ward', 'Morris', 'Moore', 'Clark', 'Lee', 'King', 'Baker', 'Harrison', 'Morgan', 'Allen',
  'James', 'Scott', 'Phillips', 'Watson', 'Davis', 'Parker', 'Price', 'Bennett', 'Young', 'Griffiths',
  'Mitchell', 'Kelly', 'Cook', 'Carter', 'Richardson', 'Bailey', 'Collins', 'Bell', 'Shaw', 'Murphy',
  'Miller', 'Cox', 'Richards', 'Khan', 'Marshall', 'Anderson', 'Simpson', 'Ellis', 'Adams', 'Singh',
  'Begum', 'Wilkinson', 'Foster', 'Chapman', 'Powell', 'Webb', 'Rogers', 'Gray', 'Mason', 'Ali',
  'Hunt', 'Hussain', 'Campbell', 'Matthews', 'Owen', 'Palmer', 'Holmes', 'Mills', 'Barnes', 'Knight',
  'Lloyd', 'Butler', 'Russell', 'Barker', 'Fisher', 'Stevens', 'Jenkins', 'Murray', 'Dixon', 'Harvey',
  'Graham', 'Pearson', 'Ahmed', 'Fletcher', 'Walsh', 'Kaur', 'Gibson', 'Howard', 'Andrews', 'Stewart',
  'Elliott', 'Reynolds', 'Saunders', 'Payne', 'Fox', 'Ford', 'Pearce', 'Day', 'Brooks', 'West',
  'Lawrence', 'Cole', 'Atkinson', 'Bradley', 'Spencer', 'Gill', 'Dawson', 'Ball', 'Burton', 'Watts',
  'Rose', 'Booth', 'Perry', 'Ryan', 'Grant', 'Wells', 'Armstrong', 'Francis', 'Rees', 'Hayes',
  'Hart', 'Hudson', 'Newman', 'Barrett', 'Webster', 'Hunter', 'Gregory', 'Carr', 'Lowe', 'Page',
  'Marsh', 'Riley', 'Dunn', 'Woods', 'Parsons', 'Berry', 'Stone', 'Reid', 'Holland', 'Hawkins',
  'Harding', 'Porter', 'Robertson', 'Newton', 'Oliver', 'Reed', 'Kennedy', 'Williamson', 'Bird', 'Gardner',
  'Shah', 'Dodd', 'Bishop', 'Lucas', 'Nicholson', 'Sutton', 'Chambers', 'Hopkins', 'Frost', 'Jordan',
  'Warren', 'Cross', 'Nash', 'Hicks', 'Moss', 'Sharp', 'Slater', 'Little', 'Pollard', 'Fleming',
  // Welsh
  'Llewellyn', 'Pritchard', 'Vaughan', 'Howells', 'Bowen', 'Prosser', 'Pugh', 'Parry', 'Meredith', 'Jenkin',
  // Scottish and Irish
  'Fraser', 'MacDonald', 'McKenzie', 'Henderson', 'Ferguson', 'Cunningham', 'Hamilton', 'Duncan', 'McDonald', 'McCarthy',
  'Lynch', 'Doyle', 'Byrne', 'Quinn', 'Gallagher', 'Kavanagh', 'Brennan', 'Keane',
  // With apostrophes
  "O'Brien", "O'Connor", "O'Neill", "O'Sullivan", "O'Donnell", "O'Reilly", "O'Hara", "O'Leary", "O'Callaghan", "D'Souza",
  "D'Silva", "D'Arcy",
  // Hyphenated
  'Smith-Jones', 'Taylor-Brown', 'Lloyd-Williams', 'Jones-Parry', 'Clarke-Hill', 'Ward-Thomas', 'Hughes-Davies', 'Evans-Pritchard', 'Baker-Khan', 'Wilson-Ahmed',
  'Patel-Shah', 'Morgan-Owen', 'Scott-Campbell', 'Wood-Mensah',
  // South Asian heritage
  'Akhtar', 'Iqbal', 'Rahman', 'Uddin', 'Islam', 'Miah', 'Chowdhury', 'Mahmood', 'Malik', 'Aziz',
  'Rashid', 'Sharma', 'Kumar', 'Mistry', 'Chauhan', 'Desai', 'Joshi', 'Mehta', 'Nair', 'Pillai',
  'Sandhu', 'Dhillon', 'Bains', 'Sidhu', 'Bibi', 'Choudhury', 'Qureshi', 'Butt', 'Raza', 'Siddiqui',
  // East and South-East Asian heritage
  'Chen', 'Wang', 'Li', 'Zhang', 'Liu', 'Nguyen', 'Tran', 'Wong', 'Chan', 'Lam',
  // African and Caribbean heritage
  'Okafor', 'Okoye', 'Adeyemi', 'Balogun', 'Mensah', 'Boateng', 'Owusu', 'Asante', 'Osei', 'Adebayo',
  'Okonkwo', 'Oyelaran', 'Baptiste', 'Charles', 'Samuels', 'Douglas', 'Henry', 'Gordon', 'Forbes', 'Bailey-Reid',
  'Hassan', 'Mohamed', 'Abdi', 'Farah', 'Warsame', 'Osman',
  // European heritage
  'Nowak', 'Kowalski', 'Kowalczyk', 'Lewandowski', 'Wojcik', 'Kaminski', 'Popescu', 'Ionescu', 'Silva', 'Santos',
  'Ferreira', 'Costa', 'Rossi', 'Russo', 'Yilmaz', 'Demir', 'Kaya', 'Papadopoulos', 'Georgiou', 'Schmidt',
];
