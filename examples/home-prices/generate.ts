/**
 * Writes the home-price fixtures: the same (synthetic, deterministic) homes as three sources see
 * them — an agency's JSON export, a CSV export of a listings site, and a paged HTTP API (served
 * by serve.ts) — each with its own field names, units, date formats and spellings, with overlaps
 * (the same home in two or three sources), a repeated CSV row and a few bad records.
 *
 *   npx tsx examples/home-prices/generate.ts
 *
 * The first agency record and the first API record are the two records of the worked example in
 * issue 3: both describe 15 Star Thistle, Irvine, and become one canonical home.
 */
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { mulberry32 } from '../../src/shared/prng';

const here = dirname(fileURLToPath(import.meta.url));

const random = mulberry32(20260301);
const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)];
const between = (lo: number, hi: number) => lo + Math.floor(random() * (hi - lo + 1));

const cities = [
  { city: 'Irvine', zips: ['92604', '92612', '92614', '92618', '92620'], factor: 1.0 },
  { city: 'Tustin', zips: ['92780', '92782'], factor: 0.82 },
  { city: 'Costa Mesa', zips: ['92626', '92627'], factor: 0.9 },
  { city: 'Lake Forest', zips: ['92630'], factor: 0.78 },
  { city: 'Newport Beach', zips: ['92660', '92663'], factor: 1.55 },
  { city: 'Mission Viejo', zips: ['92691', '92692'], factor: 0.8 },
];
const streetNames = [
  'Star Thistle',
  'Sandpiper',
  'Orchard Hills',
  'Yale Loop',
  'Culver',
  'Harvard',
  'Jamboree',
  'Bonita Canyon',
  'Alton',
  'Barranca',
  'Deerfield',
  'Woodbridge',
  'Turtle Rock',
  'Meadowood',
  'Eastshore',
  'Lakeview',
  'Canyon Ridge',
  'Sycamore',
  'Oak Creek',
  'Coral Tree',
];
const suffixes = ['Street', 'Avenue', 'Drive', 'Lane', 'Court', 'Way', 'Road', 'Place'];
const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];

interface Home {
  street: string;
  city: string;
  state: string;
  zip: string;
  rooms: number;
  sqft: number;
  year: number;
  month: number;
  heating: 'heat_pump' | 'gas' | 'electric';
  cooling: 'electric' | 'gas' | 'none';
  garage: number;
  price: number;
}

function makeHome(i: number): Home {
  const place = pick(cities);
  const rooms = between(1, 6);
  const sqft = Math.round((450 + rooms * between(280, 420) + between(-150, 250)) / 10) * 10;
  const year = between(1955, 2022);
  const heating = pick(['heat_pump', 'gas', 'gas', 'electric'] as const);
  const cooling = pick(['electric', 'electric', 'gas', 'none'] as const);
  const garage = between(0, 3);
  const base =
    90_000 +
    430 * sqft +
    28_000 * rooms +
    16_000 * garage +
    1_800 * (year - 1950) +
    (heating === 'heat_pump' ? 22_000 : 0) +
    (cooling === 'none' ? -18_000 : 0);
  const noise = 1 + (random() - 0.5) * 0.16;
  const price = Math.round((base * place.factor * noise) / 1000) * 1000;
  const number = 1 + ((i * 37) % 490);
  return {
    street: `${number} ${pick(streetNames)} ${pick(suffixes)}`,
    city: place.city,
    state: 'CA',
    zip: pick(place.zips),
    rooms,
    sqft,
    year,
    month: between(1, 12),
    heating,
    cooling,
    garage,
    price,
  };
}

// Distinct addresses: a repeated address would be one home to the deduplication.
const taken = new Set<string>(['15 Star Thistle|Irvine']);
const homes = Array.from({ length: 330 }, (_, i) => {
  for (;;) {
    const home = makeHome(i);
    const key = `${home.street.split(' ').slice(0, 3).join(' ')}|${home.city}`;
    if (!taken.has(key)) {
      taken.add(key);
      return home;
    }
  }
});
// Home 0 is the worked example of the issue.
homes[0] = {
  street: '15 Star Thistle',
  city: 'Irvine',
  state: 'CA',
  zip: '92604',
  rooms: 2,
  sqft: 1200,
  year: 1990,
  month: 5,
  heating: 'heat_pump',
  cooling: 'electric',
  garage: 2,
  price: 130_000,
};

const day = (offset: number) => new Date(Date.UTC(2024, 0, 1) + offset * 86_400_000).toISOString().slice(0, 10);
const agencyHeating = { heat_pump: 'heat pump', gas: 'Gas furnace', electric: 'Electric' } as const;
const agencyCooling = { electric: 'Electric', gas: 'Gas', none: 'None' } as const;

// 1. The agency's JSON export: homes 0..159.
const agency: Record<string, unknown>[] = homes.slice(0, 160).map((h, i) => ({
  room: h.rooms,
  built_date: `${h.year}-${String(h.month).padStart(2, '0')}`,
  cooling_system: agencyCooling[h.cooling],
  heating_system: agencyHeating[h.heating],
  address: `${h.street}, ${h.city}, ${h.state} ${h.zip}`,
  price: String(h.price),
  garage_spaces: h.garage,
  area: i % 3 === 0 ? `${h.sqft} sqft` : i % 3 === 1 ? `${h.sqft.toLocaleString('en-US')} sq ft` : `${h.sqft} ft²`,
  listed: day(i % 60),
}));
agency[0] = {
  room: 2,
  built_date: '1990-05',
  cooling_system: 'Electric',
  heating_system: 'heat pump',
  address: '15 Star Thistle, Irvine, CA 92604',
  price: '130000',
  garage_spaces: 2,
  area: '1200 sqft',
  listed: '2024-03-02',
};
// Bad records, quarantined with their reasons.
agency[17] = { ...agency[17], price: 'call for price' };
agency[42] = { ...agency[42], area: '1450 acres2' };
agency[88] = { ...agency[88], address: null };
agency[131] = { ...agency[131], heating_system: 'wood stove' };

// 2. A listings site's CSV export: homes 120..279 (overlap 120..159 with the agency).
const csvHeating = { heat_pump: 'Heat Pump', gas: 'GAS', electric: 'electric' } as const;
const csvCooling = { electric: 'Central AC', gas: 'gas', none: 'none' } as const;
const quote = (text: string) => (/[",\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text);
const csvLines = ['id,street,city,state,zip,bedrooms,sqft,year_built,heating,cooling,garage,list_price,listed_date'];
homes.slice(120, 280).forEach((h, k) => {
  const i = 120 + k;
  const listed = new Date(Date.UTC(2024, 0, 1) + ((k * 7) % 75) * 86_400_000);
  const price = i < 160 ? Math.round((h.price * 1.03) / 1000) * 1000 : h.price;
  const fields = [
    `L${1000 + i}`,
    h.street,
    h.city,
    h.state,
    h.zip,
    String(h.rooms),
    h.sqft.toLocaleString('en-US'),
    String(h.year),
    csvHeating[h.heating],
    csvCooling[h.cooling],
    k % 11 === 0 ? '' : String(h.garage),
    `$${price.toLocaleString('en-US')}`,
    `${String(listed.getUTCMonth() + 1).padStart(2, '0')}/${String(listed.getUTCDate()).padStart(2, '0')}/${listed.getUTCFullYear()}`,
  ];
  if (k === 23) fields[12] = '13/45/2024'; // not a real date
  if (k === 61) fields[6] = '-900'; // a negative area
  csvLines.push(fields.map(quote).join(','));
  if (k === 30) csvLines.push(fields.map(quote).join(',')); // the export repeated a row
  if (k === 97) csvLines.push(`${fields.map(quote).join(',')},EXTRA`); // a ragged row
});
writeFileSync(join(here, 'listings.csv'), `${csvLines.join('\n')}\n`);

// 3. The HTTP API: homes 250..329 (overlap 250..279 with the CSV) and 1..10 (overlap with the agency), then the worked example.
const apiHeating = { heat_pump: 'heat pump', gas: 'gas', electric: 'electric resistance' } as const;
const apiCooling = { electric: 'Electric', gas: 'Gas', none: 'no' } as const;
const toApi = (h: Home, i: number) => ({
  id: `h-${i}`,
  room: h.rooms,
  'temprature system': { cooler: apiCooling[h.cooling], heater: apiHeating[h.heating] },
  address: { state: h.state, city: h.city, street: h.street, 'zip code': h.zip },
  'built date': `${h.year} ${i % 2 ? MONTHS[h.month - 1] : MONTHS[h.month - 1].slice(0, 3)}`,
  price: String(i < 280 && i >= 250 ? Math.round((h.price * 0.98) / 1000) * 1000 : h.price),
  garage_spaces: h.garage,
  area: `${Math.round(h.sqft * 0.09290304 * 10) / 10} m2`,
  updated: `${day(40 + (i % 50))}T12:00:00Z`,
});
const api: Record<string, unknown>[] = [
  {
    id: 'h-0',
    room: 2,
    'temprature system': { cooler: 'Electric', heater: 'heat pump' },
    address: { state: 'CA', city: 'Irvine', street: '15 Star Thistle', 'zip code': '92604' },
    'built date': '1990 May',
    price: '130000',
    garage_spaces: 2,
    area: '130 m2',
    updated: '2024-03-10T12:00:00Z',
  },
  ...homes.slice(1, 11).map((h, k) => toApi(h, 1 + k)),
  ...homes.slice(250, 330).map((h, k) => toApi(h, 250 + k)),
];
(api[20] as { 'built date': string })['built date'] = '199O May'; // letter O for a zero
(api[55] as { room: number }).room = 45;
writeFileSync(join(here, 'agency.json'), `${JSON.stringify(agency, null, 1)}\n`);
writeFileSync(join(here, 'api-listings.json'), `${JSON.stringify(api, null, 1)}\n`);
console.log(`agency.json ${agency.length} records, listings.csv ${csvLines.length - 1} records, api-listings.json ${api.length} records`);
