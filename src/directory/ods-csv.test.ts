import { describe, expect, it } from 'vitest';
import { detectOdsKind, parseCsvRows, parseOdsCsv, pickTown, titleCaseOdsName } from './ods-csv.ts';

/*
 * Sample rows. Trust and practice rows are copied from public ODS extracts committed to GitHub:
 *  - current etr (quoted, 27 columns): psychty/wsx_covid_datapack_public etr.csv
 *  - older etr (unquoted, 24 columns): jah-photoshop/nhsparse etr.csv
 *  - current epraccur (ACTIVE/INACTIVE/DORMANT): shuc9663-source/GEOG5990_Assignment2_201929754 epraccur.csv
 *  - older epraccur (A/C, packed address lines): psychty/primary-care-geographies epraccur.csv
 * No raw ets.csv was found in a public repository, so the site rows are built in the published ets layout
 * (column 14 sub-type, 15 parent trust, 18 phone) with real site codes and names.
 */

const TODAY = '2025-06-01';

// Current etr.csv
const ETR_R1H =
  '"R1H","BARTS HEALTH NHS TRUST","Y56","QMF","THE ROYAL LONDON HOSPITAL","80 NEWARK STREET","","LONDON","","E1 2ES","20120401","","","","","","","","","","","0","","H","","",""';
const ETR_RJ1 =
  '"RJ1","GUY\'S AND ST THOMAS\' NHS FOUNDATION TRUST","Y56","QKK","ST THOMAS\' HOSPITAL","WESTMINSTER BRIDGE ROAD","","LONDON","","SE1 7EH","19930401","","","","","","","","","","","0","","H","","",""';
const ETR_RCX =
  '"RCX","THE QUEEN ELIZABETH HOSPITAL, KING\'S LYNN, NHS FOUNDATION TRUST","Y61","QMM","QUEEN ELIZABETH HOSPITAL","GAYTON ROAD","","KING\'S LYNN","","PE30 4ET","19920401","","","","","","","","","","","0","","G","","",""';
const ETR_RJ8 =
  '"RJ8","CORNWALL PARTNERSHIP NHS FOUNDATION TRUST","Y58","QT6","CAREW HOUSE","BEACON TECHNOLOGY PARK","DUNMERE ROAD","BODMIN","CORNWALL","PL31 2QN","19930401","","","","","","","","","","","0","","K","","",""';
const ETR_RA3_CLOSED =
  '"RA3","WESTON AREA HEALTH NHS TRUST","Y58","Q86","WESTON GENERAL HOSPITAL","GRANGE ROAD","UPHILL","WESTON-SUPER-MARE","","BS23 4TQ","19910401","20200331","","","","","","","","","","1","","K","","",""';

// Older etr.csv: unquoted except where a field holds a comma
const ETR_OLD_R1H =
  'R1H,BARTS HEALTH NHS TRUST,Y56,Q71,THE ROYAL LONDON HOSPITAL,WHITECHAPEL,,LONDON,GREATER LONDON,E1 1BB,20120401,,,,,,,,,,,0,,H';
const ETR_OLD_RF4 =
  'RF4,"BARKING, HAVERING AND REDBRIDGE UNIVERSITY HOSPITALS NHS TRUST",Y56,Q71,QUEENS HOSPITAL,ROM VALLEY WAY,,ROMFORD,ESSEX,RM7 0AG,20010401,,,,,,,,,,,0,,H';

// Current epraccur.csv
const EPR_A81001 =
  '"A81001","THE DENSHAM SURGERY","Y63","QHM","HEALTH CENTRE","LAWSON STREET","","STOCKTON-ON-TEES","","TS18 1HU","19740401","","ACTIVE","B","16C","20200401","","01642 672351","","","","1","","16C","","RO76",""';
const EPR_A81003_INACTIVE =
  '"A81003","VICTORIA MEDICAL PRACTICE","Y63","QHM","HEALTH CENTRE","VICTORIA ROAD","","HARTLEPOOL","","TS26 8DB","19740401","20171031","INACTIVE","B","00K","20130401","20171031","01429 272945","","","","1","","00K","","RO76",""';
const EPR_A81065_DORMANT =
  '"A81065","THE ESTON SURGERY","Y63","QHM","LOW GRANGE HEALTH VILLAGE","NORMANBY ROAD","","MIDDLESBROUGH","","TS6 6TD","19740401","","DORMANT","B","16C","20200401","","01642 511567","","","","1","","16C","","RO76",""';
const EPR_A81016 =
  '"A81016","PARK SURGERY","Y63","QHM","PARK SURGERY, ONE LIFE","LINTHORPE ROAD","","MIDDLESBROUGH","","TS1 3QY","19740401","","ACTIVE","B","16C","20200401","","0300 1112300","","","","1","","16C","","RO76",""';

// Older epraccur.csv
const EPR_OLD_A81026 =
  '"A81026","LINTHORPE SURGERY","Y63","Q74","378 LINTHORPE ROAD","MIDDLESBROUGH","CLEVELAND","","","TS5 6HA","19740401","","A","B","00M","20130401","","01642 856066","","","","0","","00M","","4",""';
const EPR_OLD_A81027 =
  '"A81027","YARM MEDICAL PRACTICE","Y63","Q74","YARM MEDICAL PRACTICE","MULBERRY HOUSE","1 WORSALL ROAD","YARM, CLEVELAND","","TS15 9DD","19740401","","A","B","00K","20130401","","01642 745800","","","","0","","00K","","4",""';
const EPR_OLD_A81044 =
  '"A81044","MCKENZIE HOUSE SURGERY","Y63","Q74","MCKENZIE HOUSE","17 KENDAL ROAD","HARTLEPOOL","CLEVELAND","","TS25 1QU","19740401","","A","B","00K","20130401","","01429 230000","","","","0","","00K","","4",""';
const EPR_OLD_A81015_CLOSED =
  '"A81015","LAGAN SURGERY","Y63","Q74","LAGAN SURGERY","20 KIRKLEATHAM STREET","REDCAR","CLEVELAND","","TS10 1TZ","19740401","20190430","C","B","00M","20130401","20190430","01642 488128","","","","0","","00M","","4",""';

/** A 27-column row in the standard ODS layout, all fields quoted; `cols` is keyed by 1-based column. */
function odsRow(cols: Record<number, string>): string {
  const fields: string[] = [];
  for (let c = 1; c <= 27; c++) fields.push(`"${(cols[c] ?? '').replaceAll('"', '""')}"`);
  return fields.join(',');
}

function siteRow(
  code: string,
  name: string,
  address: string[],
  postcode: string,
  extra: Record<number, string>,
) {
  const cols: Record<number, string> = { 1: code, 2: name, 3: 'Y56', 4: 'QMF', 10: postcode, 11: '19480705' };
  address.forEach((line, i) => {
    cols[5 + i] = line;
  });
  return odsRow({ ...cols, 22: '0', 24: 'H', ...extra });
}

const ETS_R1H12 = siteRow('R1H12', 'THE ROYAL LONDON HOSPITAL', ['WHITECHAPEL', '', '', 'LONDON'], 'E1 1FR', {
  15: 'R1H',
  18: '020 3416 5000',
});
const ETS_RJ122 = siteRow(
  'RJ122',
  "ST THOMAS' HOSPITAL",
  ['WESTMINSTER BRIDGE ROAD', '', '', 'LONDON'],
  'SE1 7EH',
  {
    15: 'RJ1',
  },
);
const ETS_R1HNH_CLOSED = siteRow(
  'R1HNH',
  'NEWHAM GENERAL HOSPITAL',
  ['GLEN ROAD', 'PLAISTOW', '', 'LONDON'],
  'E13 8SL',
  {
    12: '20240331',
    15: 'R1H',
  },
);

const lines = (...rows: string[]) => `${rows.join('\n')}\n`;

describe('parseCsvRows', () => {
  it('reads quoted fields with commas, doubled quotes and line breaks', () => {
    const rows = parseCsvRows('a,"b, c","say ""hi""","two\nlines",\n"",x\n');
    expect(rows).toEqual([
      ['a', 'b, c', 'say "hi"', 'two\nlines', ''],
      ['', 'x'],
    ]);
  });

  it('accepts CRLF, a BOM and no final line break', () => {
    expect(parseCsvRows('\uFEFF"R1H",BARTS\r\nRJ1,"GUY\'S"')).toEqual([
      ['R1H', 'BARTS'],
      ['RJ1', "GUY'S"],
    ]);
  });

  it('does not invent a row for the trailing line break, but keeps blank lines and trailing empties', () => {
    expect(parseCsvRows('a,b\r\n\r\nc,\r\n')).toEqual([['a', 'b'], [''], ['c', '']]);
    expect(parseCsvRows('')).toEqual([]);
    expect(parseCsvRows('x\n""')).toEqual([['x'], ['']]);
  });

  it('keeps a CRLF inside quotes as data and treats a lone CR as a line end', () => {
    expect(parseCsvRows('"a\r\nb",c\rd')).toEqual([['a\r\nb', 'c'], ['d']]);
  });

  it('reads the real layouts with the published column counts', () => {
    expect(parseCsvRows(ETR_R1H)[0]).toHaveLength(27);
    expect(parseCsvRows(ETR_OLD_R1H)[0]).toHaveLength(24);
    expect(parseCsvRows(ETR_OLD_RF4)[0]?.[1]).toBe(
      'BARKING, HAVERING AND REDBRIDGE UNIVERSITY HOSPITALS NHS TRUST',
    );
    expect(parseCsvRows(EPR_A81001)[0]).toHaveLength(27);
    expect(parseCsvRows(ETS_R1H12)[0]).toHaveLength(27);
  });
});

describe('detectOdsKind', () => {
  it('recognises the three extracts by name, in any case and directory', () => {
    expect(detectOdsKind('etr.csv')).toBe('trusts');
    expect(detectOdsKind('/tmp/ods/ETS.CSV')).toBe('sites');
    expect(detectOdsKind('C:\\Downloads\\epraccur.csv')).toBe('gp-practices');
    expect(detectOdsKind('etr_changes_20250301_to_20250424.csv')).toBe('trusts');
    expect(detectOdsKind('ets (1).csv')).toBe('sites');
    expect(detectOdsKind('epraccur-2025-06.csv')).toBe('gp-practices');
  });

  it('rejects other ODS files that merely start with the same letters, and non-CSV files', () => {
    expect(detectOdsKind('etrust.csv')).toBeNull(); // trusts and sites mixed
    expect(detectOdsKind('etreat.csv')).toBeNull(); // treatment centres
    expect(detectOdsKind('epraccur.zip')).toBeNull();
    expect(detectOdsKind('egpcur.csv')).toBeNull();
    expect(detectOdsKind('trusts.csv')).toBeNull();
  });
});

describe('parseOdsCsv: trusts (etr)', () => {
  it('reads current rows, with quoted names holding commas', () => {
    const result = parseOdsCsv(lines(ETR_R1H, ETR_RJ1, ETR_RCX, ETR_RJ8), 'trusts', TODAY);
    expect(result.problems).toEqual([]);
    expect(result.skippedClosed).toBe(0);
    expect(result.organisations).toEqual([
      {
        odsCode: 'R1H',
        name: 'Barts Health NHS Trust',
        setting: 'trust',
        parentOdsCode: null,
        town: 'London',
        phone: null,
        postcode: 'E1 2ES',
      },
      {
        odsCode: 'RJ1',
        name: "Guy's and St Thomas' NHS Foundation Trust",
        setting: 'trust',
        parentOdsCode: null,
        town: 'London',
        phone: null,
        postcode: 'SE1 7EH',
      },
      {
        odsCode: 'RCX',
        name: "The Queen Elizabeth Hospital, King's Lynn, NHS Foundation Trust",
        setting: 'trust',
        parentOdsCode: null,
        town: "King's Lynn",
        phone: null,
        postcode: 'PE30 4ET',
      },
      {
        odsCode: 'RJ8',
        name: 'Cornwall Partnership NHS Foundation Trust',
        setting: 'trust',
        parentOdsCode: null,
        town: 'Bodmin', // line 4; line 5 is the county
        phone: null,
        postcode: 'PL31 2QN',
      },
    ]);
  });

  it('reads the older unquoted 24-column layout', () => {
    const result = parseOdsCsv(lines(ETR_OLD_R1H, ETR_OLD_RF4), 'trusts', TODAY);
    expect(result.problems).toEqual([]);
    expect(result.organisations.map((o) => [o.odsCode, o.name, o.town, o.postcode])).toEqual([
      ['R1H', 'Barts Health NHS Trust', 'London', 'E1 1BB'],
      ['RF4', 'Barking, Havering and Redbridge University Hospitals NHS Trust', 'Romford', 'RM7 0AG'],
    ]);
  });

  it('skips a trust closed before today and counts it', () => {
    const result = parseOdsCsv(lines(ETR_R1H, ETR_RA3_CLOSED), 'trusts', TODAY);
    expect(result.organisations.map((o) => o.odsCode)).toEqual(['R1H']);
    expect(result.skippedClosed).toBe(1);
    expect(result.problems).toEqual([]);
  });

  it('treats a close date of today as closed and a later one as still open', () => {
    const closing = (date: string) => ETR_RA3_CLOSED.replace('"20200331"', `"${date}"`);
    expect(parseOdsCsv(lines(closing('20250601')), 'trusts', TODAY).skippedClosed).toBe(1);
    const later = parseOdsCsv(lines(closing('20250602')), 'trusts', TODAY);
    expect(later.skippedClosed).toBe(0);
    expect(later.organisations[0]?.odsCode).toBe('RA3');
    expect(later.organisations[0]?.town).toBe('Weston-super-Mare');
  });
});

describe('parseOdsCsv: sites (ets)', () => {
  it('reads sites as "other" under the trust named in column 15', () => {
    const result = parseOdsCsv(lines(ETS_R1H12, ETS_RJ122), 'sites', TODAY);
    expect(result.problems).toEqual([]);
    expect(result.organisations).toEqual([
      {
        odsCode: 'R1H12',
        name: 'The Royal London Hospital',
        setting: 'other',
        parentOdsCode: 'R1H',
        town: 'London',
        phone: '020 3416 5000',
        postcode: 'E1 1FR',
      },
      {
        odsCode: 'RJ122',
        name: "St Thomas' Hospital",
        setting: 'other',
        parentOdsCode: 'RJ1',
        town: 'London',
        phone: null,
        postcode: 'SE1 7EH',
      },
    ]);
  });

  it('prefers the parent column to the code prefix, and falls back to the prefix when it is empty', () => {
    // Built rows: a site whose code prefix is not its current trust, and one with no parent column value.
    const moved = siteRow('RQX43', 'HOMERTON ROW SITE', ['', '', '', 'LONDON'], 'E9 6SR', { 15: 'R1H' });
    const orphan = siteRow(
      'RJ199',
      'EVELINA LONDON',
      ['WESTMINSTER BRIDGE ROAD', '', '', 'LONDON'],
      'SE1 7EH',
      {},
    );
    const result = parseOdsCsv(lines(moved, orphan), 'sites', TODAY);
    expect(result.organisations.map((o) => [o.odsCode, o.parentOdsCode])).toEqual([
      ['RQX43', 'R1H'],
      ['RJ199', 'RJ1'],
    ]);
  });

  it('skips a closed site', () => {
    const result = parseOdsCsv(lines(ETS_R1H12, ETS_R1HNH_CLOSED), 'sites', TODAY);
    expect(result.organisations.map((o) => o.odsCode)).toEqual(['R1H12']);
    expect(result.skippedClosed).toBe(1);
  });
});

describe('parseOdsCsv: GP practices (epraccur)', () => {
  it('reads current rows: phone from column 18, the commissioner is not a parent', () => {
    const result = parseOdsCsv(lines(EPR_A81001, EPR_A81016), 'gp-practices', TODAY);
    expect(result.problems).toEqual([]);
    expect(result.organisations).toEqual([
      {
        odsCode: 'A81001',
        name: 'The Densham Surgery',
        setting: 'gp-practice',
        parentOdsCode: null,
        town: 'Stockton-on-Tees',
        phone: '01642 672351',
        postcode: 'TS18 1HU',
      },
      {
        odsCode: 'A81016',
        name: 'Park Surgery',
        setting: 'gp-practice',
        parentOdsCode: null,
        town: 'Middlesbrough',
        phone: '0300 1112300',
        postcode: 'TS1 3QY',
      },
    ]);
  });

  it('skips inactive (closed) and dormant practices, whatever the status spelling', () => {
    const current = parseOdsCsv(
      lines(EPR_A81001, EPR_A81003_INACTIVE, EPR_A81065_DORMANT),
      'gp-practices',
      TODAY,
    );
    expect(current.organisations.map((o) => o.odsCode)).toEqual(['A81001']);
    expect(current.skippedClosed).toBe(2);

    // A dormant practice has no close date: the status alone closes it.
    const dormantOnly = parseOdsCsv(lines(EPR_A81065_DORMANT), 'gp-practices', TODAY);
    expect(dormantOnly.skippedClosed).toBe(1);
    const reopened = parseOdsCsv(
      lines(EPR_A81065_DORMANT.replace('"DORMANT"', '"ACTIVE"')),
      'gp-practices',
      TODAY,
    );
    expect(reopened.organisations.map((o) => o.odsCode)).toEqual(['A81065']);

    const older = parseOdsCsv(lines(EPR_OLD_A81026, EPR_OLD_A81015_CLOSED), 'gp-practices', TODAY);
    expect(older.organisations.map((o) => o.odsCode)).toEqual(['A81026']);
    expect(older.skippedClosed).toBe(1);
    const statusOnly = EPR_OLD_A81015_CLOSED.replaceAll('"20190430"', '""');
    expect(parseOdsCsv(lines(statusOnly), 'gp-practices', TODAY).skippedClosed).toBe(1);
  });

  it('finds the town in older rows whose address lines are packed upwards', () => {
    const result = parseOdsCsv(lines(EPR_OLD_A81026, EPR_OLD_A81027, EPR_OLD_A81044), 'gp-practices', TODAY);
    expect(result.organisations.map((o) => [o.name, o.town])).toEqual([
      ['Linthorpe Surgery', 'Middlesbrough'],
      ['Yarm Medical Practice', 'Yarm'],
      ['McKenzie House Surgery', 'Hartlepool'],
    ]);
  });
});

describe('parseOdsCsv: problems', () => {
  it('reports a bad code with its line number and carries on', () => {
    const text = lines(
      ETR_R1H,
      ETR_RJ1.replace('"RJ1"', '"rj1"'),
      ETR_RCX,
      ETR_RJ8.replace('"RJ8"', '"R-J8"'),
    );
    const result = parseOdsCsv(text, 'trusts', TODAY);
    expect(result.organisations.map((o) => o.odsCode)).toEqual(['R1H', 'RCX']);
    expect(result.problems).toEqual([
      { line: 2, message: expect.stringContaining('bad organisation code "rj1"') },
      { line: 4, message: expect.stringContaining('bad organisation code "R-J8"') },
    ]);
  });

  it('reports a row with too few columns', () => {
    const result = parseOdsCsv(
      lines(ETR_R1H, '"RJ1","GUY\'S AND ST THOMAS\' NHS FOUNDATION TRUST","Y56"'),
      'trusts',
      TODAY,
    );
    expect(result.organisations.map((o) => o.odsCode)).toEqual(['R1H']);
    expect(result.problems).toEqual([{ line: 2, message: expect.stringContaining('has 3 columns') }]);
  });

  it('reports a row with more columns than the rest of the file (an unquoted comma)', () => {
    const unquoted = ETR_OLD_RF4.replace('"BARKING, HAVERING', 'BARKING, HAVERING').replace(
      'NHS TRUST"',
      'NHS TRUST',
    );
    const result = parseOdsCsv(
      lines(ETR_OLD_R1H, unquoted, ETR_OLD_R1H.replace('R1H,', 'R1K,')),
      'trusts',
      TODAY,
    );
    expect(result.organisations.map((o) => o.odsCode)).toEqual(['R1H', 'R1K']);
    expect(result.problems).toEqual([{ line: 2, message: 'has 25 columns but the rest of the file has 24' }]);
  });

  it('reports a missing code or name, a bad close date and a repeated code', () => {
    const text = lines(
      ETR_R1H.replace('"R1H"', '""'),
      ETR_RJ1.replace('"GUY\'S AND ST THOMAS\' NHS FOUNDATION TRUST"', '"  "'),
      ETR_RCX.replace('"19920401",""', '"19920401","2025-01-01"'),
      ETR_RJ8,
      ETR_RJ8,
    );
    const result = parseOdsCsv(text, 'trusts', TODAY);
    expect(result.organisations.map((o) => o.odsCode)).toEqual(['RJ8']);
    expect(result.problems).toEqual([
      { line: 1, message: 'missing organisation code' },
      { line: 2, message: 'missing name for RJ1' },
      { line: 3, message: expect.stringContaining('bad close date "2025-01-01"') },
      { line: 5, message: expect.stringContaining('duplicate organisation code RJ8 (first on line 4)') },
    ]);
  });

  it('counts lines, not records, when a quoted field spans lines', () => {
    const twoLineName = ETR_RCX.replace("KING'S LYNN, NHS", "KING'S LYNN,\nNHS");
    const result = parseOdsCsv(lines(twoLineName, ETR_RJ1.replace('"RJ1"', '"R"')), 'trusts', TODAY);
    expect(result.problems).toEqual([
      { line: 3, message: expect.stringContaining('bad organisation code "R"') },
    ]);
    expect(result.organisations[0]?.name).toBe(
      "The Queen Elizabeth Hospital, King's Lynn, NHS Foundation Trust",
    );
  });

  it('reads a file with a BOM and CRLF line ends, ignoring blank lines', () => {
    const text = `\uFEFF${ETR_R1H}\r\n\r\n${ETR_RJ1}\r\n`;
    const result = parseOdsCsv(text, 'trusts', TODAY);
    expect(result.problems).toEqual([]);
    expect(result.organisations.map((o) => [o.odsCode, o.postcode])).toEqual([
      ['R1H', 'E1 2ES'],
      ['RJ1', 'SE1 7EH'],
    ]);
  });

  it('rejects a today that is not a date', () => {
    expect(() => parseOdsCsv(ETR_R1H, 'trusts', '20250601')).toThrow(RangeError);
  });
});

describe('titleCaseOdsName', () => {
  it.each([
    ['THE ROYAL LONDON HOSPITAL', 'The Royal London Hospital'],
    ['BARTS HEALTH NHS TRUST', 'Barts Health NHS Trust'],
    ["GUY'S AND ST THOMAS' NHS FOUNDATION TRUST", "Guy's and St Thomas' NHS Foundation Trust"],
    ["KING'S COLLEGE HOSPITAL NHS FOUNDATION TRUST", "King's College Hospital NHS Foundation Trust"],
    ['UNIVERSITY HOSPITALS OF NORTH MIDLANDS NHS TRUST', 'University Hospitals of North Midlands NHS Trust'],
    ['MCKENZIE HOUSE SURGERY', 'McKenzie House Surgery'],
    ['DUNCAN MACMILLAN HOUSE', 'Duncan Macmillan House'],
    ['MACCLESFIELD DISTRICT HOSPITAL', 'Macclesfield District Hospital'],
    ['DR RASOOL', 'Dr Rasool'],
    ["O'BRIEN PRACTICE", "O'Brien Practice"],
    ['ALEXANDRA HOSPITAL (REDDITCH)', 'Alexandra Hospital (Redditch)'],
    ['(THE) OLD SCHOOL SURGERY', '(The) Old School Surgery'],
    ['NEWCASTLE-UNDER-LYME', 'Newcastle-under-Lyme'],
    ['WESTON-SUPER-MARE', 'Weston-super-Mare'],
    ['KINGSTON UPON THAMES', 'Kingston upon Thames'],
    ["ST MARY'S HOSPITAL MIU", "St Mary's Hospital MIU"],
    ['WHIPPS CROSS UTC', 'Whipps Cross UTC'],
    ['ENT OUTPATIENTS', 'ENT Outpatients'],
    ['HMP WANDSWORTH HEALTHCARE', 'HMP Wandsworth Healthcare'],
    ['BDCT CMHT', 'BDCT CMHT'],
    ['A&E DEPARTMENT', 'A&E Department'],
    ['GP OUT OF HOURS SERVICE', 'GP Out of Hours Service'],
    ['QUEENS PARK MEDICAL CTR', 'Queens Park Medical Ctr'],
    ['2ND FLOOR, MORSTON HOUSE', '2nd Floor, Morston House'],
    ['22B WESTBURY STREET', '22B Westbury Street'],
    ['BURY ST. EDMUNDS', 'Bury St. Edmunds'],
    ['WALK-IN CENTRE', 'Walk-in Centre'],
    ['THE  ROYAL   MARSDEN ', 'The Royal Marsden'],
  ])('%s -> %s', (input, expected) => {
    expect(titleCaseOdsName(input)).toBe(expected);
  });

  it('leaves names that are already mixed case alone', () => {
    expect(titleCaseOdsName('McKenzie House Surgery')).toBe('McKenzie House Surgery');
  });
});

describe('pickTown', () => {
  it('takes line 4 unless it is a county, then the last line that is a place', () => {
    expect(pickTown(['THE ROYAL LONDON HOSPITAL', 'WHITECHAPEL', '', 'LONDON', 'GREATER LONDON'])).toBe(
      'LONDON',
    );
    expect(pickTown(['THE HEALTH CENTRE', 'LAWSON STREET', 'STOCKTON-ON-TEES', 'CLEVELAND', ''])).toBe(
      'STOCKTON-ON-TEES',
    );
    expect(pickTown(['167A BOROUGH ROAD', 'MIDDLESBROUGH', '', '', ''])).toBe('MIDDLESBROUGH');
    expect(pickTown(['10A CAMBRIDGE ROAD', 'LINTHORPE, MIDDLESBROUGH', 'CLEVELAND', '', ''])).toBe(
      'MIDDLESBROUGH',
    );
    expect(pickTown(['DRYBURN HOSPITAL', 'NORTH ROAD', '', 'DURHAM', 'COUNTY DURHAM'])).toBe('DURHAM');
    expect(pickTown(['12 HIGH STREET', '', '', '', ''])).toBeNull();
    expect(pickTown(['', '', '', '', ''])).toBeNull();
  });
});
