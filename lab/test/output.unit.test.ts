import { colorWanted, format, type Report } from '../src/cli/output';

const report: Report<{ components: Array<{ name: string; healthy: boolean; url: string }> }> = {
  data: {
    components: [
      { name: 'gateway', healthy: true, url: 'http://127.0.0.1:8080' },
      { name: 'payments', healthy: false, url: 'http://127.0.0.1:8084' },
    ],
  },
  ok: false,
  sections: [
    {
      title: 'Components',
      table: {
        head: ['COMPONENT', 'STATE', 'URL'],
        rows: [
          ['gateway', { text: 'healthy', tone: 'ok' }, 'http://127.0.0.1:8080'],
          ['payments', { text: 'down', tone: 'bad' }, 'http://127.0.0.1:8084'],
        ],
      },
    },
  ],
};

describe('the renderer', () => {
  it('prints the data itself as JSON', () => {
    expect(JSON.parse(format(report, { json: true, color: true }))).toEqual(report.data);
  });

  it('prints the same data as an aligned table for a person', () => {
    const lines = format(report, { json: false, color: false }).split('\n');
    expect(lines).toEqual([
      'Components',
      'COMPONENT  STATE    URL',
      'gateway    healthy  http://127.0.0.1:8080',
      'payments   down     http://127.0.0.1:8084',
    ]);
  });

  it('colours only when asked, and never with NO_COLOR or off a terminal', () => {
    expect(format(report, { json: false, color: true })).toContain('\u001b[31mdown');
    expect(format(report, { json: false, color: false })).not.toContain('\u001b[');
    expect(colorWanted({ isTTY: true }, {})).toBe(true);
    expect(colorWanted({ isTTY: true }, { NO_COLOR: '1' })).toBe(false);
    expect(colorWanted({ isTTY: false }, {})).toBe(false);
    expect(colorWanted({}, {})).toBe(false);
  });
});
