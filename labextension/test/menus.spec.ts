import { describe, expect, it } from 'vitest';

import { addGroupedContextMenu, addRowCommands, groupedItems, openGroupedMenu } from '../src/menus';

type Action = 'open' | 'compare' | 'copy' | 'details';

const IDS: Record<Action, string> = {
  open: 'x:open',
  compare: 'x:compare',
  copy: 'x:copy',
  details: 'x:details'
};

describe('groupedItems', () => {
  it('lists each group in order, a separator between two groups', () => {
    expect(groupedItems([['compare', 'copy'], ['details']], IDS)).toEqual([
      { command: 'x:compare' },
      { command: 'x:copy' },
      { type: 'separator' },
      { command: 'x:details' }
    ]);
  });

  it('gives each command the args', () => {
    const args = { key: 'a.ipynb' };
    expect(groupedItems([['open'], ['copy']], IDS, args)).toEqual([
      { command: 'x:open', args },
      { type: 'separator' },
      { command: 'x:copy', args }
    ]);
  });
});

describe('openGroupedMenu', () => {
  it('fills the menu afresh for each row and opens it at the point', () => {
    const calls: unknown[][] = [];
    const menu = {
      clearItems: () => calls.push(['clear']),
      addItem: (item: unknown) => calls.push(['add', item]),
      open: (x: number, y: number) => calls.push(['open', x, y])
    };
    openGroupedMenu(menu as never, [['compare'], ['details']], IDS, { key: 'b' }, 10, 20);
    expect(calls).toEqual([
      ['clear'],
      ['add', { command: 'x:compare', args: { key: 'b' } }],
      ['add', { type: 'separator' }],
      ['add', { command: 'x:details', args: { key: 'b' } }],
      ['open', 10, 20]
    ]);
  });
});

describe('addGroupedContextMenu', () => {
  it('adds the items for the selector, ranked in order, separators included', () => {
    const items: unknown[] = [];
    addGroupedContextMenu({ addItem: (item: unknown) => items.push(item) } as never, '.row', [['open'], ['copy', 'details']], IDS);
    expect(items).toEqual([
      { command: 'x:open', selector: '.row', rank: 0 },
      { type: 'separator', selector: '.row', rank: 1 },
      { command: 'x:copy', selector: '.row', rank: 2 },
      { command: 'x:details', selector: '.row', rank: 3 }
    ]);
  });
});

describe('addRowCommands', () => {
  /** A stand-in app: its commands by id, its right-click menu, and the row right-clicked. */
  function fakeApp(row: HTMLElement | null) {
    const commands = new Map<string, Record<string, (args: Record<string, unknown>) => unknown>>();
    const menu: unknown[] = [];
    const app = {
      commands: { addCommand: (id: string, options: never) => commands.set(id, options) },
      contextMenu: { addItem: (item: unknown) => menu.push(item) },
      contextMenuHitTest: () => row
    };
    return { app: app as never, commands, menu };
  }

  function add(row: HTMLElement | null) {
    const done: string[] = [];
    const fake = fakeApp(row);
    addRowCommands<Action, string>(fake.app, {
      ids: IDS,
      labels: { open: 'Open', compare: 'Compare', copy: 'Copy', details: 'Details' },
      caption: action => `${action} it`,
      rowClass: 'row',
      contextMenu: [['open'], ['copy']],
      fromArgs: args => (typeof args.key === 'string' ? args.key : null),
      fromRow: node => node.dataset.key || null,
      isVisible: action => action !== 'details',
      isEnabled: (action, key) => key !== 'locked',
      execute: async (action, key) => void done.push(`${action} ${key}`)
    });
    return { ...fake, done };
  }

  it('acts on the row its args name, else on the row right-clicked', async () => {
    const { commands, done } = add({ dataset: { key: 'clicked' } } as unknown as HTMLElement);
    const open = commands.get('x:open') as Record<string, (args: Record<string, unknown>) => unknown>;
    await open.execute({ key: 'named' });
    await open.execute({});
    expect(done).toEqual(['open named', 'open clicked']);
    expect(open.label).toBe('Open');
    expect((open.caption as () => string)()).toBe('open it');
  });

  it('hides and disables as the panel says, and does nothing without a row', async () => {
    const { commands, done, menu } = add(null);
    const details = commands.get('x:details') as Record<string, (args: Record<string, unknown>) => unknown>;
    const copy = commands.get('x:copy') as Record<string, (args: Record<string, unknown>) => unknown>;
    expect(details.isVisible({ key: 'a' })).toBe(false);
    expect(copy.isVisible({ key: 'a' })).toBe(true);
    expect(copy.isEnabled({ key: 'locked' })).toBe(false);
    expect(copy.isVisible({})).toBe(false);
    expect(copy.execute({})).toBeUndefined();
    expect(done).toEqual([]);
    expect(menu).toEqual([
      { command: 'x:open', selector: '.row', rank: 0 },
      { type: 'separator', selector: '.row', rank: 1 },
      { command: 'x:copy', selector: '.row', rank: 2 }
    ]);
  });
});
