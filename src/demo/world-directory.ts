/**
 * The demo world's organisation directory.
 *
 * Codes and names are real public identifiers: NHS organisation and site codes from the NHS
 * Organisation Data Service (ODS), and local authorities' ONS GSS codes. Postcodes, where given, are
 * the ones those public extracts record. Every phone number comes from the ranges Ofcom keeps for TV
 * and radio drama (020 7946 0xxx, 0113/0114/0115/0116/0117/0118/0121/0151/0161 496 0xxx,
 * 0191 498 0xxx, 01632 960xxx, 07700 900xxx): they reach no one. Each number is used once.
 *
 * Site rows name a department within a hospital ("... Emergency Department") while keeping the
 * hospital's real ODS site code; a hospital's code is used for one setting only, so other settings
 * of the same trust sit at its other real sites. The sources that confirmed each code are listed at
 * the end of this file.
 */
import type { LocalAuthorityInput, OrganisationInput } from '../directory/types.ts';

export const DEMO_ORGANISATIONS: readonly OrganisationInput[] = [
  // ---------------------------------------------------------------- London
  { odsCode: 'R1H', name: 'Barts Health NHS Trust', setting: 'trust', town: 'London', postcode: 'E1 1BB', phone: '020 7946 0100' },
  { odsCode: 'R1H12', name: 'The Royal London Hospital Emergency Department', setting: 'emergency-department', parentOdsCode: 'R1H', town: 'London', postcode: 'E1 1BB', phone: '020 7946 0101' },
  { odsCode: 'R1HKH', name: 'Whipps Cross University Hospital Maternity Unit', setting: 'maternity-unit', parentOdsCode: 'R1H', town: 'London', postcode: 'E11 1NR', phone: '020 7946 0102' },
  { odsCode: 'R1HNH', name: 'Newham General Hospital Emergency Department', setting: 'emergency-department', parentOdsCode: 'R1H', town: 'London', postcode: 'E13 8SL', phone: '020 7946 0103' },

  { odsCode: 'RQX', name: 'Homerton Healthcare NHS Foundation Trust', setting: 'trust', town: 'London', postcode: 'E9 6SR', phone: '020 7946 0110' },
  { odsCode: 'RQXM1', name: 'Homerton University Hospital Emergency Department', setting: 'emergency-department', parentOdsCode: 'RQX', town: 'London', postcode: 'E9 6SR', phone: '020 7946 0111' },

  { odsCode: 'RRV', name: 'University College London Hospitals NHS Foundation Trust', setting: 'trust', town: 'London', postcode: 'NW1 2PG', phone: '020 7946 0120' },
  { odsCode: 'RRV03', name: 'University College Hospital Emergency Department', setting: 'emergency-department', parentOdsCode: 'RRV', town: 'London', postcode: 'NW1 2BU', phone: '020 7946 0121' },

  // ---------------------------------------------------------------- Birmingham and the Black Country
  { odsCode: 'RRK', name: 'University Hospitals Birmingham NHS Foundation Trust', setting: 'trust', town: 'Birmingham', postcode: 'B15 2TH', phone: '0121 496 0100' },
  { odsCode: 'RRK15', name: 'Queen Elizabeth Hospital Birmingham Emergency Department', setting: 'emergency-department', parentOdsCode: 'RRK', town: 'Birmingham', postcode: 'B15 2WB', phone: '0121 496 0101' },
  { odsCode: 'RRK97', name: 'Heartlands Hospital Maternity Unit', setting: 'maternity-unit', parentOdsCode: 'RRK', town: 'Birmingham', postcode: 'B9 5SS', phone: '0121 496 0102' },
  { odsCode: 'RRK98', name: 'Good Hope Hospital Emergency Department', setting: 'emergency-department', parentOdsCode: 'RRK', town: 'Sutton Coldfield', postcode: 'B75 7RR', phone: '0121 496 0103' },
  { odsCode: 'RRK99', name: 'Solihull Hospital Urgent Treatment Centre', setting: 'urgent-treatment-centre', parentOdsCode: 'RRK', town: 'Solihull', postcode: 'B91 2JL', phone: '0121 496 0104' },

  { odsCode: 'RQ3', name: "Birmingham Women's and Children's NHS Foundation Trust", setting: 'trust', town: 'Birmingham', postcode: 'B4 6NH', phone: '0121 496 0110' },
  { odsCode: 'RQ301', name: "Birmingham Children's Hospital Emergency Department", setting: 'emergency-department', parentOdsCode: 'RQ3', town: 'Birmingham', postcode: 'B4 6NH', phone: '0121 496 0111' },

  { odsCode: 'RXK', name: 'Sandwell and West Birmingham Hospitals NHS Trust', setting: 'trust', town: 'Birmingham', postcode: 'B18 7QH', phone: '0121 496 0120' },
  { odsCode: 'I3W1A', name: 'Midland Metropolitan University Hospital Emergency Department', setting: 'emergency-department', parentOdsCode: 'RXK', town: 'Smethwick', postcode: 'B66 2QT', phone: '0121 496 0121' },
  { odsCode: 'RXK01', name: 'Sandwell General Hospital Urgent Treatment Centre', setting: 'urgent-treatment-centre', parentOdsCode: 'RXK', town: 'West Bromwich', postcode: 'B71 4HJ', phone: '0121 496 0122' },

  { odsCode: 'RL4', name: 'The Royal Wolverhampton NHS Trust', setting: 'trust', town: 'Wolverhampton', postcode: 'WV10 0QP', phone: '01632 960 100' },
  { odsCode: 'RL403', name: 'New Cross Hospital Emergency Department', setting: 'emergency-department', parentOdsCode: 'RL4', town: 'Wolverhampton', postcode: 'WV10 0QP', phone: '01632 960 101' },

  // ---------------------------------------------------------------- Staffordshire, Derby and Burton, Coventry and Warwickshire, Nottinghamshire
  { odsCode: 'RJE', name: 'University Hospitals of North Midlands NHS Trust', setting: 'trust', town: 'Stoke-on-Trent', postcode: 'ST4 6QG', phone: '01632 960 110' },
  { odsCode: 'RJE01', name: 'Royal Stoke University Hospital Emergency Department', setting: 'emergency-department', parentOdsCode: 'RJE', town: 'Stoke-on-Trent', postcode: 'ST4 6QG', phone: '01632 960 111' },

  { odsCode: 'RTG', name: 'University Hospitals of Derby and Burton NHS Foundation Trust', setting: 'trust', town: 'Derby', postcode: 'DE22 3NE', phone: '01632 960 120' },
  { odsCode: 'RTG02', name: "Queen's Hospital Burton Paediatric Ward", setting: 'paediatric-ward', parentOdsCode: 'RTG', town: 'Burton-on-Trent', postcode: 'DE13 0RB', phone: '01632 960 121' },

  { odsCode: 'RKB', name: 'University Hospitals Coventry and Warwickshire NHS Trust', setting: 'trust', town: 'Coventry', postcode: 'CV2 2DX', phone: '01632 960 130' },
  { odsCode: 'RKB01', name: 'University Hospital Coventry Emergency Department', setting: 'emergency-department', parentOdsCode: 'RKB', town: 'Coventry', postcode: 'CV2 2DX', phone: '01632 960 131' },
  { odsCode: 'RKB03', name: 'Hospital of St Cross Urgent Treatment Centre', setting: 'urgent-treatment-centre', parentOdsCode: 'RKB', town: 'Rugby', postcode: 'CV22 5PX', phone: '01632 960 132' },

  { odsCode: 'RK5', name: 'Sherwood Forest Hospitals NHS Foundation Trust', setting: 'trust', town: 'Sutton-in-Ashfield', postcode: 'NG17 4JL', phone: '01632 960 140' },
  { odsCode: 'RK5BC', name: "King's Mill Hospital Emergency Department", setting: 'emergency-department', parentOdsCode: 'RK5', town: 'Sutton-in-Ashfield', postcode: 'NG17 4JL', phone: '01632 960 141' },
  { odsCode: 'RK5HP', name: 'Newark Hospital Urgent Treatment Centre', setting: 'urgent-treatment-centre', parentOdsCode: 'RK5', town: 'Newark', postcode: 'NG24 4DE', phone: '01632 960 142' },

  // ---------------------------------------------------------------- Bedfordshire and Lincolnshire
  { odsCode: 'RC9', name: 'Bedfordshire Hospitals NHS Foundation Trust', setting: 'trust', town: 'Luton', postcode: 'LU4 0DZ', phone: '01632 960 150' },
  { odsCode: 'RC971', name: 'Luton and Dunstable Hospital Emergency Department', setting: 'emergency-department', parentOdsCode: 'RC9', town: 'Luton', postcode: 'LU4 0DZ', phone: '01632 960 151' },
  { odsCode: 'RC979', name: 'Bedford Hospital South Wing Maternity Unit', setting: 'maternity-unit', parentOdsCode: 'RC9', town: 'Bedford', postcode: 'MK42 9DJ', phone: '01632 960 152' },

  { odsCode: 'RWD', name: 'United Lincolnshire Teaching Hospitals NHS Trust', setting: 'trust', town: 'Lincoln', postcode: 'LN2 4AX', phone: '01632 960 170' },
  { odsCode: 'RWDDA', name: 'Lincoln County Hospital Emergency Department', setting: 'emergency-department', parentOdsCode: 'RWD', town: 'Lincoln', postcode: 'LN2 5QY', phone: '01632 960 171' },
  { odsCode: 'RWDLA', name: 'Pilgrim Hospital Maternity Unit', setting: 'maternity-unit', parentOdsCode: 'RWD', town: 'Boston', postcode: 'PE21 9QS', phone: '01632 960 172' },
  { odsCode: 'RWDLP', name: 'Grantham and District Hospital Urgent Treatment Centre', setting: 'urgent-treatment-centre', parentOdsCode: 'RWD', town: 'Grantham', postcode: 'NG31 8DG', phone: '01632 960 173' },

  { odsCode: 'RJL', name: 'Northern Lincolnshire and Goole NHS Foundation Trust', setting: 'trust', town: 'Grimsby', postcode: 'DN33 2BA', phone: '01632 960 180' },
  { odsCode: 'RJL30', name: 'Diana, Princess of Wales Hospital Emergency Department', setting: 'emergency-department', parentOdsCode: 'RJL', town: 'Grimsby', postcode: 'DN33 2BA', phone: '01632 960 181' },

  // ---------------------------------------------------------------- North West
  { odsCode: 'RRF', name: 'Wrightington, Wigan and Leigh Teaching Hospitals NHS Foundation Trust', setting: 'trust', town: 'Wigan', postcode: 'WN1 2NN', phone: '0161 496 0100' },
  { odsCode: 'RRF02', name: 'Royal Albert Edward Infirmary Emergency Department', setting: 'emergency-department', parentOdsCode: 'RRF', town: 'Wigan', postcode: 'WN1 2NN', phone: '0161 496 0101' },

  { odsCode: 'R0A', name: 'Manchester University NHS Foundation Trust', setting: 'trust', town: 'Manchester', postcode: 'M13 9WL', phone: '0161 496 0110' },
  { odsCode: 'R0A66', name: 'North Manchester General Hospital Emergency Department', setting: 'emergency-department', parentOdsCode: 'R0A', town: 'Manchester', postcode: 'M8 5RB', phone: '0161 496 0111' },
  { odsCode: 'R0A03', name: "Royal Manchester Children's Hospital Paediatric Ward", setting: 'paediatric-ward', parentOdsCode: 'R0A', town: 'Manchester', postcode: 'M13 9WL', phone: '0161 496 0112' },

  { odsCode: 'RXN', name: 'Lancashire Teaching Hospitals NHS Foundation Trust', setting: 'trust', town: 'Preston', postcode: 'PR2 9HT', phone: '01632 960 190' },
  { odsCode: 'RXN02', name: 'Royal Preston Hospital Emergency Department', setting: 'emergency-department', parentOdsCode: 'RXN', town: 'Preston', postcode: 'PR2 9HT', phone: '01632 960 191' },
  { odsCode: 'RXN01', name: 'Chorley and South Ribble Hospital Urgent Treatment Centre', setting: 'urgent-treatment-centre', parentOdsCode: 'RXN', town: 'Chorley', postcode: 'PR7 1PP', phone: '01632 960 192' },

  { odsCode: 'RBS', name: "Alder Hey Children's NHS Foundation Trust", setting: 'trust', town: 'Liverpool', postcode: 'L12 2AP', phone: '0151 496 0100' },
  { odsCode: 'RBS25', name: "Alder Hey Children's Hospital Emergency Department", setting: 'emergency-department', parentOdsCode: 'RBS', town: 'Liverpool', postcode: 'L12 2AP', phone: '0151 496 0101' },

  // ---------------------------------------------------------------- Yorkshire and the North East
  { odsCode: 'RR8', name: 'Leeds Teaching Hospitals NHS Trust', setting: 'trust', town: 'Leeds', postcode: 'LS9 7TF', phone: '0113 496 0100' },
  { odsCode: 'RR801', name: 'Leeds General Infirmary Emergency Department', setting: 'emergency-department', parentOdsCode: 'RR8', town: 'Leeds', postcode: 'LS1 3EX', phone: '0113 496 0101' },
  { odsCode: 'RR813', name: "St James's University Hospital Maternity Unit", setting: 'maternity-unit', parentOdsCode: 'RR8', town: 'Leeds', postcode: 'LS9 7TF', phone: '0113 496 0102' },

  { odsCode: 'RCU', name: "Sheffield Children's NHS Foundation Trust", setting: 'trust', town: 'Sheffield', postcode: 'S10 2TH', phone: '0114 496 0100' },
  { odsCode: 'RCUEF', name: "Sheffield Children's Hospital Emergency Department", setting: 'emergency-department', parentOdsCode: 'RCU', town: 'Sheffield', postcode: 'S10 2TH', phone: '0114 496 0101' },

  { odsCode: 'RTD', name: 'The Newcastle upon Tyne Hospitals NHS Foundation Trust', setting: 'trust', town: 'Newcastle upon Tyne', postcode: 'NE7 7DN', phone: '0191 498 0100' },
  { odsCode: 'RTD02', name: 'Royal Victoria Infirmary Emergency Department', setting: 'emergency-department', parentOdsCode: 'RTD', town: 'Newcastle upon Tyne', postcode: 'NE1 4LP', phone: '0191 498 0101' },
  { odsCode: 'RTD10', name: "Great North Children's Hospital Paediatric Ward", setting: 'paediatric-ward', parentOdsCode: 'RTD', town: 'Newcastle upon Tyne', postcode: 'NE1 4LP', phone: '0191 498 0102' },

  // ---------------------------------------------------------------- South and South West, East of England, Kent
  { odsCode: 'RA7', name: 'University Hospitals Bristol and Weston NHS Foundation Trust', setting: 'trust', town: 'Bristol', postcode: 'BS1 3NU', phone: '0117 496 0100' },
  { odsCode: 'RA723', name: 'Bristol Royal Hospital for Children Emergency Department', setting: 'emergency-department', parentOdsCode: 'RA7', town: 'Bristol', postcode: 'BS2 8BJ', phone: '0117 496 0101' },
  { odsCode: 'RA707', name: "St Michael's Hospital Maternity Unit", setting: 'maternity-unit', parentOdsCode: 'RA7', town: 'Bristol', postcode: 'BS2 8EG', phone: '0117 496 0102' },

  { odsCode: 'REF', name: 'Royal Cornwall Hospitals NHS Trust', setting: 'trust', town: 'Truro', postcode: 'TR1 3LJ', phone: '01632 960 210' },
  { odsCode: 'REF12', name: 'Royal Cornwall Hospital Emergency Department', setting: 'emergency-department', parentOdsCode: 'REF', town: 'Truro', postcode: 'TR1 3LJ', phone: '01632 960 211' },

  { odsCode: 'RH8', name: 'Royal Devon University Healthcare NHS Foundation Trust', setting: 'trust', town: 'Exeter', postcode: 'EX2 5DW', phone: '01632 960 220' },
  { odsCode: 'RH801', name: 'Royal Devon and Exeter Hospital (Wonford) Emergency Department', setting: 'emergency-department', parentOdsCode: 'RH8', town: 'Exeter', postcode: 'EX2 5DW', phone: '01632 960 221' },

  { odsCode: 'RM1', name: 'Norfolk and Norwich University Hospitals NHS Foundation Trust', setting: 'trust', town: 'Norwich', postcode: 'NR4 7UY', phone: '01632 960 230' },
  { odsCode: 'RM102', name: 'Norfolk and Norwich University Hospital Emergency Department', setting: 'emergency-department', parentOdsCode: 'RM1', town: 'Norwich', postcode: 'NR4 7UY', phone: '01632 960 231' },

  { odsCode: 'RVV', name: 'East Kent Hospitals University NHS Foundation Trust', setting: 'trust', town: 'Canterbury', postcode: 'CT1 3NG', phone: '01632 960 240' },
  { odsCode: 'RVV01', name: 'William Harvey Hospital Emergency Department', setting: 'emergency-department', parentOdsCode: 'RVV', town: 'Ashford', postcode: 'TN24 0LZ', phone: '01632 960 241' },
  { odsCode: 'RVV02', name: 'Buckland Hospital Urgent Treatment Centre', setting: 'urgent-treatment-centre', parentOdsCode: 'RVV', town: 'Dover', postcode: 'CT17 0HD', phone: '01632 960 242' },

  // ---------------------------------------------------------------- Ambulance services (all ten English ambulance trusts)
  { odsCode: 'RRU', name: 'London Ambulance Service NHS Trust', setting: 'ambulance-service', town: 'London', phone: '020 7946 0200' },
  { odsCode: 'RYA', name: 'West Midlands Ambulance Service University NHS Foundation Trust', setting: 'ambulance-service', town: 'Brierley Hill', phone: '01632 960 300' },
  { odsCode: 'RX7', name: 'North West Ambulance Service NHS Trust', setting: 'ambulance-service', town: 'Bolton', phone: '01632 960 301' },
  { odsCode: 'RX6', name: 'North East Ambulance Service NHS Foundation Trust', setting: 'ambulance-service', town: 'Newcastle upon Tyne', phone: '0191 498 0200' },
  { odsCode: 'RX8', name: 'Yorkshire Ambulance Service NHS Trust', setting: 'ambulance-service', town: 'Wakefield', phone: '01632 960 302' },
  { odsCode: 'RX9', name: 'East Midlands Ambulance Service NHS Trust', setting: 'ambulance-service', town: 'Nottingham', phone: '0115 496 0200' },
  { odsCode: 'RYC', name: 'East of England Ambulance Service NHS Trust', setting: 'ambulance-service', phone: '01632 960 303' },
  { odsCode: 'RYD', name: 'South East Coast Ambulance Service NHS Foundation Trust', setting: 'ambulance-service', phone: '01632 960 304' },
  { odsCode: 'RYE', name: 'South Central Ambulance Service NHS Foundation Trust', setting: 'ambulance-service', town: 'Bicester', phone: '01632 960 305' },
  { odsCode: 'RYF', name: 'South Western Ambulance Service NHS Foundation Trust', setting: 'ambulance-service', town: 'Exeter', phone: '01632 960 306' },

  // ---------------------------------------------------------------- NHS 111 and integrated urgent care
  // DHU has run NHS 111 for the West Midlands (as well as the East Midlands) since WMAS handed the
  // contract back in 2022; WMAS ran it from November 2019.
  { odsCode: 'NNJ', name: 'DHU Health Care C.I.C', setting: 'nhs-111', phone: '01632 960 310' },

  // ---------------------------------------------------------------- Out-of-hours GP, walk-in centres, urgent care, minor injuries
  // Prescribing cost centres from the ODS GP-and-other-practices extract (epraccur); names as ODS records them.
  { odsCode: 'Y04101', name: 'Rotherham Community Health Centre OOH', setting: 'out-of-hours-gp', town: 'Rotherham', postcode: 'S60 2UD', phone: '01632 960 320' },
  { odsCode: 'Y03550', name: "C&P IUC Service Addenbrooke's OOH", setting: 'out-of-hours-gp', town: 'Cambridge', postcode: 'CB2 0QQ', phone: '01632 960 321' },
  { odsCode: 'Y03507', name: 'Trafford Health Centre Walk-in Centre', setting: 'walk-in-centre', town: 'Manchester', postcode: 'M41 5SL', phone: '0161 496 0130' },
  { odsCode: 'Y04707', name: 'South Hornchurch Walk In Centre', setting: 'walk-in-centre', town: 'Rainham', postcode: 'RM13 7XR', phone: '020 7946 0170' },
  { odsCode: 'Y04106', name: 'Walk-in Centre GP In-Hours (Queen Elizabeth Hospital, Gateshead)', setting: 'walk-in-centre', town: 'Gateshead', postcode: 'NE9 6SX', phone: '0191 498 0110' },
  { odsCode: 'Y03571', name: 'Corby Urgent Care Centre', setting: 'urgent-treatment-centre', town: 'Corby', postcode: 'NN17 2UR', phone: '01632 960 330' },
  { odsCode: 'NR5', name: 'Livewell Southwest', setting: 'other', town: 'Plymouth', phone: '01632 960 340' },
  { odsCode: 'Y04065', name: 'Minor Injuries Unit, Cumberland Centre', setting: 'minor-injuries-unit', parentOdsCode: 'NR5', town: 'Plymouth', postcode: 'PL1 1JZ', phone: '01632 960 341' },

  // ---------------------------------------------------------------- GP practices (Tees Valley)
  { odsCode: 'A81001', name: 'The Densham Surgery', setting: 'gp-practice', town: 'Stockton-on-Tees', postcode: 'TS18 1HU', phone: '01632 960 350' },
  { odsCode: 'A81002', name: 'Queens Park Medical Centre', setting: 'gp-practice', town: 'Stockton-on-Tees', postcode: 'TS18 2AW', phone: '01632 960 351' },
  { odsCode: 'A81004', name: 'Bluebell Medical Centre', setting: 'gp-practice', town: 'Middlesbrough', postcode: 'TS5 8SB', phone: '01632 960 352' },
  { odsCode: 'A81005', name: 'Springwood Surgery', setting: 'gp-practice', town: 'Guisborough', postcode: 'TS14 7DJ', phone: '01632 960 353' },
];

export const DEMO_LOCAL_AUTHORITIES: readonly LocalAuthorityInput[] = [
  // West Midlands
  { laCode: 'E08000025', name: 'Birmingham City Council', officeHoursPhone: '0121 496 0500', emergencyDutyPhone: '07700 900 100' },
  { laCode: 'E08000028', name: 'Sandwell Metropolitan Borough Council', officeHoursPhone: '0121 496 0510', emergencyDutyPhone: '07700 900 101' },
  { laCode: 'E08000029', name: 'Solihull Metropolitan Borough Council', officeHoursPhone: '0121 496 0520', emergencyDutyPhone: '07700 900 102' },
  { laCode: 'E08000031', name: 'City of Wolverhampton Council', officeHoursPhone: '01632 960 500', emergencyDutyPhone: '07700 900 103' },
  { laCode: 'E08000027', name: 'Dudley Metropolitan Borough Council', officeHoursPhone: '01632 960 510', emergencyDutyPhone: '07700 900 104' },
  { laCode: 'E08000030', name: 'Walsall Council', officeHoursPhone: '01632 960 520', emergencyDutyPhone: '07700 900 105' },
  { laCode: 'E08000026', name: 'Coventry City Council', officeHoursPhone: '01632 960 530', emergencyDutyPhone: '07700 900 106' },
  { laCode: 'E10000028', name: 'Staffordshire County Council', officeHoursPhone: '01632 960 540', emergencyDutyPhone: '07700 900 107', notificationCadence: 'immediate' },
  { laCode: 'E06000021', name: 'Stoke-on-Trent City Council', officeHoursPhone: '01632 960 550', emergencyDutyPhone: '07700 900 108' },
  // London
  { laCode: 'E09000030', name: 'London Borough of Tower Hamlets', officeHoursPhone: '020 7946 0500', emergencyDutyPhone: '07700 900 109', notificationCadence: 'immediate' },
  { laCode: 'E09000012', name: 'London Borough of Hackney', officeHoursPhone: '020 7946 0510', emergencyDutyPhone: '07700 900 110' },
  { laCode: 'E09000007', name: 'London Borough of Camden', officeHoursPhone: '020 7946 0520', emergencyDutyPhone: '07700 900 111' },
  { laCode: 'E09000025', name: 'London Borough of Newham', officeHoursPhone: '020 7946 0530', emergencyDutyPhone: '07700 900 112' },
  { laCode: 'E09000031', name: 'London Borough of Waltham Forest', officeHoursPhone: '020 7946 0540', emergencyDutyPhone: '07700 900 113' },
  { laCode: 'E09000019', name: 'London Borough of Islington', officeHoursPhone: '020 7946 0550', emergencyDutyPhone: '07700 900 114' },
  // East of England and East Midlands
  { laCode: 'E06000032', name: 'Luton Borough Council', officeHoursPhone: '01632 960 560', emergencyDutyPhone: '07700 900 115' },
  { laCode: 'E06000055', name: 'Bedford Borough Council', officeHoursPhone: '01632 960 570', emergencyDutyPhone: '07700 900 116' },
  { laCode: 'E06000056', name: 'Central Bedfordshire Council', officeHoursPhone: '01632 960 580', emergencyDutyPhone: '07700 900 117' },
  { laCode: 'E10000015', name: 'Hertfordshire County Council', officeHoursPhone: '01632 960 590', emergencyDutyPhone: '07700 900 118' },
  { laCode: 'E10000020', name: 'Norfolk County Council', officeHoursPhone: '01632 960 600', emergencyDutyPhone: '07700 900 119' },
  { laCode: 'E10000019', name: 'Lincolnshire County Council', officeHoursPhone: '01632 960 610', emergencyDutyPhone: '07700 900 120' },
  { laCode: 'E06000012', name: 'North East Lincolnshire Council', officeHoursPhone: '01632 960 620', emergencyDutyPhone: '07700 900 121' },
  { laCode: 'E06000018', name: 'Nottingham City Council', officeHoursPhone: '0115 496 0500', emergencyDutyPhone: '07700 900 122' },
  { laCode: 'E10000024', name: 'Nottinghamshire County Council', officeHoursPhone: '0115 496 0510', emergencyDutyPhone: '07700 900 123' },
  { laCode: 'E06000016', name: 'Leicester City Council', officeHoursPhone: '0116 496 0500', emergencyDutyPhone: '07700 900 124' },
  // North West
  { laCode: 'E08000010', name: 'Wigan Council', officeHoursPhone: '0161 496 0500', emergencyDutyPhone: '07700 900 125' },
  { laCode: 'E08000003', name: 'Manchester City Council', officeHoursPhone: '0161 496 0510', emergencyDutyPhone: '07700 900 126' },
  { laCode: 'E08000006', name: 'Salford City Council', officeHoursPhone: '0161 496 0520', emergencyDutyPhone: '07700 900 127' },
  { laCode: 'E08000012', name: 'Liverpool City Council', officeHoursPhone: '0151 496 0500', emergencyDutyPhone: '07700 900 128' },
  { laCode: 'E10000017', name: 'Lancashire County Council', officeHoursPhone: '01632 960 630', emergencyDutyPhone: '07700 900 129' },
  // Yorkshire and the North East
  { laCode: 'E08000035', name: 'Leeds City Council', officeHoursPhone: '0113 496 0500', emergencyDutyPhone: '07700 900 130' },
  { laCode: 'E08000019', name: 'Sheffield City Council', officeHoursPhone: '0114 496 0500', emergencyDutyPhone: '07700 900 131' },
  { laCode: 'E08000021', name: 'Newcastle City Council', officeHoursPhone: '0191 498 0500', emergencyDutyPhone: '07700 900 132' },
  { laCode: 'E08000037', name: 'Gateshead Council', officeHoursPhone: '0191 498 0510', emergencyDutyPhone: '07700 900 133' },
  // South and South West, South East
  { laCode: 'E06000023', name: 'Bristol City Council', officeHoursPhone: '0117 496 0500', emergencyDutyPhone: '07700 900 134' },
  { laCode: 'E06000038', name: 'Reading Borough Council', officeHoursPhone: '0118 496 0500', emergencyDutyPhone: '07700 900 135' },
  { laCode: 'E06000045', name: 'Southampton City Council', officeHoursPhone: '01632 960 640', emergencyDutyPhone: '07700 900 136' },
  { laCode: 'E06000052', name: 'Cornwall Council', officeHoursPhone: '01632 960 650', emergencyDutyPhone: '07700 900 137' },
  { laCode: 'E10000008', name: 'Devon County Council', officeHoursPhone: '01632 960 660', emergencyDutyPhone: '07700 900 138' },
  { laCode: 'E06000026', name: 'Plymouth City Council', officeHoursPhone: '01632 960 670', emergencyDutyPhone: '07700 900 139' },
  { laCode: 'E10000016', name: 'Kent County Council', officeHoursPhone: '01632 960 680', emergencyDutyPhone: '07700 900 140' },
  { laCode: 'E10000030', name: 'Surrey County Council', officeHoursPhone: '01632 960 690', emergencyDutyPhone: '07700 900 141' },
];

/*
 * Sources (stored public copies, looked up with the project's search tool):
 *
 * - rcpch/rcpch-nhs-organisations, rcpch_nhs_organisations/hospitals/constants/rcpch_organisations.py
 *   (NHS sites with ODS code, ParentODSCode, parent trust name and the site's ONS local-authority
 *   code): R1H12, R1HKH, R1HNH, RQXM1, RRV03, RRK97, RRK98, RRK99, RQ301, I3W1A (added there as
 *   Midland Metropolitan University Hospital, dated 01/04/2023), RXK01, RL403, RJE01, RTG02, RKB01,
 *   RKB03, RK5BC, RK5HP, RC971, RC979, RWDDA, RWDLA, RWDLP, RJL30, RRF02, R0A66, R0A03, RXN01, RXN02,
 *   RBS25, RR801, RR813, RCUEF, RTD02, RTD10, RA723, RA707, REF12, RH801, RM102, RVV01, RVV02. It also
 *   gave the GSS codes of Birmingham, Sandwell, Solihull, Wolverhampton, Dudley, Walsall, Coventry,
 *   Stoke-on-Trent, Tower Hamlets, Hackney, Camden, Newham, Waltham Forest, Islington, Luton, Bedford,
 *   North East Lincolnshire, Nottingham, Nottinghamshire (E10000024), Leicester, Wigan, Manchester,
 *   Salford, Liverpool, Leeds, Sheffield, Newcastle upon Tyne, Gateshead (E08000037), Bristol,
 *   Reading, Southampton, Cornwall, Plymouth and Surrey (E10000030).
 * - rcpch/rcpch-audit-engine, epilepsy12/constants/english_organisations.py (the NHS website's
 *   hospital list: OrganisationCode, name, ParentODSCode): RRK15 Queen Elizabeth Hospital Birmingham;
 *   a second confirmation of RQ301, RQXM1, RJE01, RRF02, RRV03, RR801, RR813, RK5BC, RK5HP, RKB01,
 *   RKB03, RL403, RM102, RJL30, RXK01, RXN01, RXN02; and NR5 = Livewell Southwest.
 * - A 2024-25 trust list (trust_code/trust_name, in NHS performance-data tooling) for current trust
 *   names, e.g. RQX Homerton Healthcare, RC9 Bedfordshire Hospitals, RQ3 Birmingham Women's and
 *   Children's, RRK, RJE, RTG, R0A, RA7, RH8; and an A&E-data script's rename table for the newest:
 *   RRF "Wrightington, Wigan and Leigh Teaching Hospitals", RWD "United Lincolnshire Teaching
 *   Hospitals".
 * - jah-photoshop/nhsparse, etr.csv (an ODS NHS trusts extract, about 2015): all ten ambulance
 *   trusts (RRU, RYA, RX7, RX6, RX8, RX9, RYC, RYD, RYE, RYF) and the trust HQ postcodes used above.
 * - A CSDS submission-tracker provider list: NNJ = DHU Health Care C.I.C. News reports (BBC, Express
 *   & Star, Shropshire Star, Emergency Services Times) on WMAS running NHS 111 for the West Midlands
 *   from November 2019 and handing it to DHU in 2022.
 * - psychty/primary-care-geographies, epraccur.csv (ODS GP practices and other prescribing settings,
 *   about 2020): A81001, A81002, A81004, A81005 (GP practices); Y04101, Y03550 (out of hours);
 *   Y03507, Y04707, Y04106 (walk-in centres); Y03571 (urgent care centre); Y04065 (minor injuries
 *   unit, provider NR5).
 * - County GSS codes Staffordshire E10000028, Lincolnshire E10000019, Kent E10000016, Lancashire
 *   E10000017, Hertfordshire E10000015, Norfolk E10000020 and Devon E10000008: a public table of ONS
 *   local-authority codes, cross-checked against several other ONS-derived lookups.
 * - Ofcom's drama number ranges: BBC News, "The 20,000 fake phone numbers" (2015), and other
 *   write-ups of Ofcom's list (area code + 496 0xxx in most cities, 020 7946 0xxx, 01632 960xxx,
 *   07700 900xxx).
 */
