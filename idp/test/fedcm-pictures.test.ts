/**
 * The FedCM dialog's pictures, read back as a PNG decoder would: the signature, each chunk's CRC,
 * the header, and the pixels inflated from IDAT.
 */
import { crc32, inflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { hsl } from '../src/views/png.js';
import { BRAND_ICON_SIZE, hueOf, initialsOf, pictureUrl } from '../src/views/pictures.js';
import { useIssuer } from './support/fixture.js';

interface Decoded {
  width: number;
  height: number;
  /** RGB of the pixel at (x, y). */
  at(x: number, y: number): [number, number, number];
  colours: Set<string>;
}

function decodePng(png: Buffer): Decoded {
  expect([...png.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  const chunks: { type: string; data: Buffer }[] = [];
  for (let at = 8; at < png.length; ) {
    const length = png.readUInt32BE(at);
    const typed = png.subarray(at + 4, at + 8 + length);
    expect(png.readUInt32BE(at + 8 + length)).toBe(crc32(typed));
    chunks.push({ type: typed.subarray(0, 4).toString('latin1'), data: typed.subarray(4) });
    at += 12 + length;
  }
  expect(chunks.map((c) => c.type)).toEqual(['IHDR', 'IDAT', 'IEND']);
  const header = chunks[0]!.data;
  const width = header.readUInt32BE(0);
  const height = header.readUInt32BE(4);
  expect([...header.subarray(8)]).toEqual([8, 2, 0, 0, 0]);
  const raw = inflateSync(chunks[1]!.data);
  expect(raw.length).toBe((width * 3 + 1) * height);
  const at = (x: number, y: number): [number, number, number] => {
    const i = y * (width * 3 + 1) + 1 + x * 3;
    expect(raw[y * (width * 3 + 1)]).toBe(0);
    return [raw[i]!, raw[i + 1]!, raw[i + 2]!];
  };
  const colours = new Set<string>();
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) colours.add(at(x, y).join());
  return { width, height, at, colours };
}

describe('account pictures', () => {
  const { idp } = useIssuer();

  it('draws the initials in white on the hue the address names, and caches for good', async () => {
    const url = pictureUrl(idp.url, { sub: 'person-1', displayName: 'Alice Émile Zoë' });
    expect(url).toBe(`${idp.url}/fedcm/pictures/AZ-${hueOf('person-1')}.png`);
    const res = await fetch(url!);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('image/png');
    expect(res.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    const png = decodePng(Buffer.from(await res.arrayBuffer()));
    expect([png.width, png.height]).toEqual([96, 96]);
    expect(png.at(0, 0)).toEqual(hsl(hueOf('person-1'), 0.45, 0.4));
    expect(png.colours).toEqual(new Set([hsl(hueOf('person-1'), 0.45, 0.4).join(), '255,255,255']));
  });

  it('takes the first and last words, base letters for accented ones, and nothing it cannot draw', () => {
    expect(initialsOf('bob')).toBe('B');
    expect(initialsOf('Ünal de la Cruz')).toBe('UC');
    expect(initialsOf('李 明')).toBe('');
    expect(pictureUrl('http://x', { sub: 's', displayName: '李 明' })).toBeUndefined();
  });

  it('answers 404 for any name it did not make', async () => {
    for (const name of ['ab-1.png', 'ABC-1.png', 'A-360.png', 'A-1.svg', 'A-1234.png', 'A%2F-1.png', '-1.png']) {
      const res = await fetch(`${idp.url}/fedcm/pictures/${name}`);
      expect(res.status, name).toBe(404);
      expect(await res.json()).toEqual({ error: 'not_found' });
    }
  });

  it('serves the brand icon as a square of the declared size', async () => {
    const res = await fetch(`${idp.url}/fedcm/icon.png`);
    expect(res.status).toBe(200);
    const png = decodePng(Buffer.from(await res.arrayBuffer()));
    expect([png.width, png.height]).toEqual([BRAND_ICON_SIZE, BRAND_ICON_SIZE]);
    expect(png.at(0, 0)).toEqual([0x0f, 0x76, 0x6e]);
    expect(png.colours.size).toBe(4);
  });
});
