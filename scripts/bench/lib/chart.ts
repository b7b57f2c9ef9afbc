/** A horizontal bar chart of ratios as a standalone SVG, with lines at parity and at the goal. */

const xml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export function ratioChart(
  bars: { label: string; ratio: number }[],
  options: { goal: number; title: string; subtitle?: string },
): string {
  const labelWidth = 250;
  const plotWidth = 460;
  const barHeight = 26;
  const top = options.subtitle ? 62 : 46;
  const height = top + bars.length * barHeight + 34;
  const width = labelWidth + plotWidth + 70;
  const max = Math.max(options.goal * 1.2, ...bars.map((b) => b.ratio)) * 1.05;
  const x = (ratio: number) => labelWidth + (ratio / max) * plotWidth;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" ` +
      'font-family="system-ui, sans-serif" font-size="13" role="img">',
    `<title>${xml(options.title)}</title>`,
    `<rect width="${width}" height="${height}" fill="#fff"/>`,
    `<text x="12" y="22" font-size="14" font-weight="600">${xml(options.title)}</text>`,
  ];
  if (options.subtitle) parts.push(`<text x="12" y="40" font-size="12" fill="#555">${xml(options.subtitle)}</text>`);
  bars.forEach((b, i) => {
    const y = top + i * barHeight;
    const color = b.ratio >= options.goal ? '#2a9d58' : b.ratio >= 1 ? '#d9a400' : '#c8453a';
    parts.push(
      `<text x="${labelWidth - 8}" y="${y + 17}" text-anchor="end">${xml(b.label)}</text>`,
      `<rect x="${labelWidth}" y="${y + 4}" width="${(x(b.ratio) - labelWidth).toFixed(1)}" ` +
        `height="${barHeight - 8}" fill="${color}"/>`,
      `<text x="${(x(b.ratio) + 6).toFixed(1)}" y="${y + 17}">${b.ratio.toFixed(2)}×</text>`,
    );
  });
  const bottom = top + bars.length * barHeight;
  for (const [ratio, label, dash] of [
    [1, '1× (parity)', '2 3'],
    [options.goal, `${options.goal}× (goal)`, '6 3'],
  ] as const) {
    parts.push(
      `<line x1="${x(ratio).toFixed(1)}" y1="${top - 4}" x2="${x(ratio).toFixed(1)}" y2="${bottom + 4}" ` +
        `stroke="#333" stroke-dasharray="${dash}"/>`,
      `<text x="${x(ratio).toFixed(1)}" y="${bottom + 20}" text-anchor="middle" font-size="12">${label}</text>`,
    );
  }
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}
