import { describe, expect, it } from 'vitest';

import { addGroupedContextMenu, groupedItems, openGroupedMenu } from '../src/menus';

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
