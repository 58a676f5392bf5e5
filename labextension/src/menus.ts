/**
 * Menus made of groups of commands, a separator between two groups: a row's ⋯ menu and its
 * right-click menu, in the Version history and in Published notebooks alike.
 *
 * Only types come from Lumino, so that the unit tests run it in Node with stand-in menus.
 */
import type { ReadonlyJSONObject } from '@lumino/coreutils';
import type { ContextMenu, Menu } from '@lumino/widgets';

/** Actions in groups, in menu order. */
export type ActionGroups<A extends string> = readonly (readonly A[])[];

/** The menu items of `groups`: each action's command (with `args`), a separator between two groups. */
export function groupedItems<A extends string>(
  groups: ActionGroups<A>,
  commandIds: Readonly<Record<A, string>>,
  args?: ReadonlyJSONObject
): Menu.IItemOptions[] {
  return groups.flatMap((group, index) => [
    ...(index > 0 ? [{ type: 'separator' as const }] : []),
    ...group.map(action => ({ command: commandIds[action], ...(args && { args }) }))
  ]);
}

/** Fill `menu` afresh with the commands of `groups`, acting on `args`, and open it at a point of the page. */
export function openGroupedMenu<A extends string>(
  menu: Pick<Menu, 'clearItems' | 'addItem' | 'open'>,
  groups: ActionGroups<A>,
  commandIds: Readonly<Record<A, string>>,
  args: ReadonlyJSONObject,
  x: number,
  y: number
): void {
  menu.clearItems();
  for (const item of groupedItems(groups, commandIds, args)) {
    menu.addItem(item);
  }
  menu.open(x, y);
}

/** Add the commands of `groups` to the right-click menu of the elements `selector` matches, in order. */
export function addGroupedContextMenu<A extends string>(
  contextMenu: Pick<ContextMenu, 'addItem'>,
  selector: string,
  groups: ActionGroups<A>,
  commandIds: Readonly<Record<A, string>>
): void {
  groupedItems(groups, commandIds).forEach((item, rank) => contextMenu.addItem({ ...item, selector, rank }));
}
