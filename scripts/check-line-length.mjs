#!/usr/bin/env node
/**
 * Fails when a tracked source line is longer than 120 columns. Biome wraps code at 120 but leaves
 * comments, strings and template literals alone, so this catches what the formatter cannot.
 * Markdown is exempt (tables and links), as are generated files (package-lock.json, drizzle-kit's
 * snapshots in idp/drizzle/meta and idp/drizzle-pg/meta).
 *
 * Usage: node scripts/check-line-length.mjs   (from anywhere inside the repository)
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const MAX_COLUMNS = 120;
const CHECKED = /\.(?:ts|tsx|js|mjs|cjs|json)$/;
const GENERATED = (file) =>
  file === 'package-lock.json' ||
  file.endsWith('/package-lock.json') ||
  file.startsWith('idp/drizzle/meta/') ||
  file.startsWith('idp/drizzle-pg/meta/');

const root = execFileSync('git', ['rev-parse', '--show-toplevel'], { encoding: 'utf8' }).trim();
// Tracked files and new ones not yet added (but not ignored): a new file is checked before its commit.
const files = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], {
  cwd: root,
  encoding: 'utf8',
})
  .split('\0')
  .filter((file) => CHECKED.test(file) && !GENERATED(file));

const long = [];
for (const file of files) {
  let text;
  try {
    text = readFileSync(join(root, file), 'utf8');
  } catch (error) {
    if (error.code === 'ENOENT') continue; // deleted in the working tree, not yet staged
    throw error;
  }
  text.split('\n').forEach((line, index) => {
    // Columns are code points, as an editor counts them: `’` or `§` is one column, not two or three bytes.
    const columns = [...line.replace(/\r$/, '')].length;
    if (columns > MAX_COLUMNS) long.push(`${file}:${index + 1}: ${columns} columns`);
  });
}

if (long.length > 0) {
  console.error(`${long.length} line(s) longer than ${MAX_COLUMNS} columns:\n${long.join('\n')}`);
  process.exit(1);
}
