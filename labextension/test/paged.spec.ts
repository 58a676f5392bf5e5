import { describe, expect, it } from 'vitest';

import { IPagingState, PagedList } from '../src/paged';

interface IState extends IPagingState {
  items: string[];
  note: string | null;
}

interface IPage {
  items: string[];
  next_cursor: string | null;
}

const initial = (): IState => ({ items: [], note: null, nextCursor: null, loading: false, loaded: false, error: null });

/** A promise to settle by hand, so that a test decides which answer arrives first. */
function deferred<T>(): { promise: Promise<T>; resolve: (value: T) => void; reject: (error: unknown) => void } {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

const first = (page: IPage): Partial<IState> => ({ items: page.items });
const merge = (state: Readonly<IState>, page: IPage): Partial<IState> => ({
  items: state.items.concat(page.items.filter(item => !state.items.includes(item)))
});

describe('PagedList', () => {
  it('loads the first page, then the next ones with their own merge, following next_cursor', async () => {
    let changes = 0;
    const list = new PagedList(initial(), () => (changes += 1));
    await list.reload(async () => ({ items: ['a', 'b'], next_cursor: '2' }), first);
    expect(list.state).toMatchObject({ items: ['a', 'b'], nextCursor: '2', loading: false, loaded: true, error: null });
    const cursors: string[] = [];
    await list.loadMore(async cursor => {
      cursors.push(cursor);
      return { items: ['b', 'c'], next_cursor: null };
    }, merge);
    expect(cursors).toEqual(['2']);
    expect(list.state).toMatchObject({ items: ['a', 'b', 'c'], nextCursor: null, loading: false });
    // Loading, then loaded, for each page.
    expect(changes).toBe(4);
    // On the last page: nothing more to ask.
    await list.loadMore(async () => {
      throw new Error('not asked');
    }, merge);
    expect(changes).toBe(4);
  });

  it('shows loading while a page is on its way, and asks for one page at a time', async () => {
    const list = new PagedList(initial());
    await list.reload(async () => ({ items: ['a'], next_cursor: '1' }), first);
    const page = deferred<IPage>();
    let asked = 0;
    const fetch = () => {
      asked += 1;
      return page.promise;
    };
    const loading = list.loadMore(fetch, merge);
    expect(list.state.loading).toBe(true);
    await list.loadMore(fetch, merge);
    expect(asked).toBe(1);
    page.resolve({ items: ['b'], next_cursor: null });
    await loading;
    expect(list.state).toMatchObject({ items: ['a', 'b'], loading: false });
  });

  it('drops answers that arrive after a reset or a newer reload', async () => {
    const list = new PagedList(initial());
    const old = deferred<IPage>();
    const reloading = list.reload(() => old.promise, first);
    list.reset({ ...initial(), note: 'another list' });
    old.resolve({ items: ['stale'], next_cursor: null });
    await reloading;
    expect(list.state).toMatchObject({ items: [], note: 'another list', loaded: false });

    const slow = deferred<IPage>();
    const slowReload = list.reload(() => slow.promise, first);
    await list.reload(async () => ({ items: ['new'], next_cursor: '1' }), first);
    slow.resolve({ items: ['old'], next_cursor: null });
    await slowReload;
    expect(list.state).toMatchObject({ items: ['new'], nextCursor: '1' });

    const more = deferred<IPage>();
    const loadingMore = list.loadMore(() => more.promise, merge);
    await list.reload(async () => ({ items: ['newer'], next_cursor: null }), first);
    more.reject(new Error('too late'));
    await loadingMore;
    expect(list.state).toMatchObject({ items: ['newer'], error: null });
  });

  it('lets the fetch stop between two requests when the list moved on', async () => {
    const list = new PagedList(initial());
    const step = deferred<void>();
    let second = false;
    const reloading = list.reload(async current => {
      await step.promise;
      if (!current()) {
        return null;
      }
      second = true;
      return { items: ['x'], next_cursor: null };
    }, first);
    list.reset(initial());
    step.resolve();
    await reloading;
    expect(second).toBe(false);
    expect(list.state.items).toEqual([]);
  });

  it('keeps what is listed on an error, or shows what `failed` answers', async () => {
    const list = new PagedList(initial());
    await list.reload(async () => ({ items: ['a'], next_cursor: '1' }), first);
    const error = new Error('S3 is down');
    await list.loadMore(async () => Promise.reject(error), merge);
    expect(list.state).toMatchObject({ items: ['a'], nextCursor: '1', loading: false, error });
    await list.reload(async () => Promise.reject(error), first);
    expect(list.state).toMatchObject({ items: ['a'], loading: false, loaded: true, error });
    await list.reload(
      async () => Promise.reject(error),
      first,
      () => ({ items: [], nextCursor: null, note: 'none yet', error: null })
    );
    expect(list.state).toMatchObject({ items: [], nextCursor: null, note: 'none yet', loaded: true, error: null });
  });
});

describe('PagedList.refreshFirst', () => {
  it('merges the first page into what is listed, keeping the pages after it and the cursor', async () => {
    const list = new PagedList(initial());
    await list.refreshFirst(async () => ({ items: ['x'], next_cursor: null }), merge);
    // Not loaded yet: nothing to refresh.
    expect(list.state.items).toEqual([]);
    await list.reload(async () => ({ items: ['b', 'a'], next_cursor: '2' }), first);
    await list.loadMore(async () => ({ items: ['z'], next_cursor: '3' }), merge);
    await list.refreshFirst(
      async () => ({ items: ['c', 'b'], next_cursor: '2' }),
      (state, page) => ({ items: page.items.concat(state.items.filter(item => !page.items.includes(item))) })
    );
    expect(list.state).toMatchObject({ items: ['c', 'b', 'a', 'z'], nextCursor: '3', loading: false });
  });

  it('shows a failure, and drops an answer for a list that started over', async () => {
    const list = new PagedList(initial());
    await list.reload(async () => ({ items: ['a'], next_cursor: null }), first);
    await list.refreshFirst(async () => {
      throw new Error('S3 is down');
    }, merge);
    expect(list.state.items).toEqual(['a']);
    expect(String(list.state.error)).toContain('S3 is down');
    const late = deferred<IPage>();
    const refreshing = list.refreshFirst(() => late.promise, merge);
    list.reset(initial());
    late.resolve({ items: ['stale'], next_cursor: null });
    await refreshing;
    expect(list.state.items).toEqual([]);
  });
});
