/**
 * The pictures the FedCM dialog shows: the issuer's brand icon and, for each account, a picture
 * made of the person's initials on a colour of their own. Tessera stores no photographs; a
 * browser's account chooser with one grey silhouette per account helps no one pick.
 *
 * The browser fetches both without cookies (FedCM §4: the picture and icon fetches are
 * uncredentialed), so a picture's address holds everything needed to draw it and nothing more
 * than the accounts response already told the page: two letters and a hue.
 */
import { createHash } from 'node:crypto';
import { hsl, Raster, type Rgb } from './png.js';

/** Where pictures are served: `/fedcm/pictures/<initials>-<hue>.png`. */
export const PICTURES_PATH = '/fedcm/pictures';
/** The brand icon of the FedCM config's `branding.icons`. */
export const BRAND_ICON_PATH = '/fedcm/icon.png';
/** The icon's side in pixels; Chromium wants a square icon of at least 25 px (FedCM §7.2 branding). */
export const BRAND_ICON_SIZE = 96;
/** The brand's colours, also the dialog's `branding.background_color` and `color`. */
export const BRAND_COLOURS = { background: '#0f766e', text: '#ffffff' } as const;

const PICTURE_SIZE = 96;

/** A picture's name: one or two letters or digits, then a hue from 0 to 359. */
const PICTURE_NAME = /^([A-Z0-9]{1,2})-(\d{1,3})\.png$/;

/**
 * 5 × 7 glyphs for the initials: each row of `#` and `.`, rows separated by spaces. A letter with
 * no glyph here (most scripts) falls back to its base Latin letter when it has one (é → E), and
 * is left out otherwise.
 */
const GLYPHS: Record<string, string> = {
  A: '.###. #...# #...# ##### #...# #...# #...#',
  B: '####. #...# #...# ####. #...# #...# ####.',
  C: '.###. #...# #.... #.... #.... #...# .###.',
  D: '####. #...# #...# #...# #...# #...# ####.',
  E: '##### #.... #.... ####. #.... #.... #####',
  F: '##### #.... #.... ####. #.... #.... #....',
  G: '.###. #...# #.... #.### #...# #...# .####',
  H: '#...# #...# #...# ##### #...# #...# #...#',
  I: '.###. ..#.. ..#.. ..#.. ..#.. ..#.. .###.',
  J: '..### ...#. ...#. ...#. ...#. #..#. .##..',
  K: '#...# #..#. #.#.. ##... #.#.. #..#. #...#',
  L: '#.... #.... #.... #.... #.... #.... #####',
  M: '#...# ##.## #.#.# #.#.# #...# #...# #...#',
  N: '#...# #...# ##..# #.#.# #..## #...# #...#',
  O: '.###. #...# #...# #...# #...# #...# .###.',
  P: '####. #...# #...# ####. #.... #.... #....',
  Q: '.###. #...# #...# #...# #.#.# #..#. .##.#',
  R: '####. #...# #...# ####. #.#.. #..#. #...#',
  S: '.#### #.... #.... .###. ....# ....# ####.',
  T: '##### ..#.. ..#.. ..#.. ..#.. ..#.. ..#..',
  U: '#...# #...# #...# #...# #...# #...# .###.',
  V: '#...# #...# #...# #...# #...# .#.#. ..#..',
  W: '#...# #...# #...# #.#.# #.#.# #.#.# .#.#.',
  X: '#...# #...# .#.#. ..#.. .#.#. #...# #...#',
  Y: '#...# #...# .#.#. ..#.. ..#.. ..#.. ..#..',
  Z: '##### ....# ...#. ..#.. .#... #.... #####',
  '0': '.###. #...# #..## #.#.# ##..# #...# .###.',
  '1': '..#.. .##.. ..#.. ..#.. ..#.. ..#.. .###.',
  '2': '.###. #...# ....# ...#. ..#.. .#... #####',
  '3': '##### ...#. ..#.. ...#. ....# #...# .###.',
  '4': '...#. ..##. .#.#. #..#. ##### ...#. ...#.',
  '5': '##### #.... ####. ....# ....# #...# .###.',
  '6': '..##. .#... #.... ####. #...# #...# .###.',
  '7': '##### ....# ...#. ..#.. .#... .#... .#...',
  '8': '.###. #...# #...# .###. #...# #...# .###.',
  '9': '.###. #...# #...# .#### ....# ...#. .##..',
};

/** The initials drawn for a display name: the first letter of its first and last words. */
export function initialsOf(displayName: string): string {
  const letters = displayName
    .normalize('NFKD')
    .split(/\s+/)
    .map((word) => [...word.toUpperCase()].find((ch) => ch in GLYPHS))
    .filter((ch): ch is string => ch !== undefined);
  if (letters.length === 0) return '';
  return letters.length === 1 ? letters[0]! : letters[0]! + letters[letters.length - 1]!;
}

/** A hue of the person's own, from their `sub`: stable, and telling nothing about them. */
export function hueOf(sub: string): number {
  return createHash('sha256').update(sub).digest().readUInt16BE(0) % 360;
}

/**
 * The picture's address for the accounts response, or undefined when the name has no letter the
 * pictures can draw (the dialog then shows the browser's own placeholder).
 */
export function pictureUrl(issuer: string, person: { sub: string; displayName: string }): string | undefined {
  const initials = initialsOf(person.displayName);
  if (initials === '') return undefined;
  return `${issuer}${PICTURES_PATH}/${initials}-${hueOf(person.sub)}.png`;
}

/** The picture a name from `pictureUrl` stands for, or undefined when the name is not one. */
export function accountPicture(name: string): Buffer | undefined {
  const match = PICTURE_NAME.exec(name);
  if (!match) return undefined;
  const [, initials, hueText] = match as unknown as [string, string, string];
  const hue = Number(hueText);
  if (hue >= 360) return undefined;
  const picture = new Raster(PICTURE_SIZE, PICTURE_SIZE, hsl(hue, 0.45, 0.4));
  drawText(picture, initials, [255, 255, 255]);
  return picture.encode();
}

/** The brand icon: four tiles of a mosaic on the brand's colour. */
export function brandIcon(): Buffer {
  const size = BRAND_ICON_SIZE;
  const icon = new Raster(size, size, rgbOf(BRAND_COLOURS.background));
  const tile = size * 0.3;
  const gap = size * 0.06;
  const start = (size - 2 * tile - gap) / 2;
  const tiles: Rgb[] = [
    [255, 255, 255],
    [253, 230, 138],
    [153, 246, 228],
    [255, 255, 255],
  ];
  tiles.forEach((colour, i) => {
    icon.fill(start + (i % 2) * (tile + gap), start + Math.floor(i / 2) * (tile + gap), tile, tile, colour);
  });
  return icon.encode();
}

/** Draws `text` (glyphs of GLYPHS) centred, each glyph cell a square of `scale` pixels. */
function drawText(picture: Raster, text: string, colour: Rgb): void {
  const glyphs = [...text].map((ch) => GLYPHS[ch]!.split(' '));
  const scale = Math.floor(picture.width / 16);
  const width = (glyphs.length * 6 - 1) * scale;
  const left = Math.floor((picture.width - width) / 2);
  const top = Math.floor((picture.height - 7 * scale) / 2);
  glyphs.forEach((rows, g) => {
    rows.forEach((row, y) => {
      for (let x = 0; x < row.length; x++) {
        if (row[x] === '#') picture.fill(left + (g * 6 + x) * scale, top + y * scale, scale, scale, colour);
      }
    });
  });
}

function rgbOf(hex: string): Rgb {
  return [1, 3, 5].map((i) => Number.parseInt(hex.slice(i, i + 2), 16)) as unknown as Rgb;
}
