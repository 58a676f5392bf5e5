/**
 * A list loaded a page at a time, as the version history and the catalog list theirs.
 *
 * The list holds what has been loaded so far and the cursor of the next page, and never asks
 * for more than one page at once. Answers that arrive after the list moved on (started over,
 * or loaded its first page again) are dropped. What the list holds, and how a page joins it,
 * is its owner's: the state is any object with the paging fields below.
 */

/** The paging fields of a paged list's state. */
export interface IPagingState {
  nextCursor: string | null;
  loading: boolean;
  /** True once the first page has answered (with items, with none, or with an error). */
  loaded: boolean;
  error: unknown;
}

/** A page as the server answers it: what it lists, and the cursor of the next page (null on the last). */
export interface IPageAnswer {
  next_cursor: string | null;
}

/** Append `page` to `listed`, leaving out what is listed already (pages may overlap), by `key`. */
export function mergeNew<T>(listed: readonly T[], page: readonly T[], key: (item: T) => unknown): T[] {
  const seen = new Set(listed.map(key));
  return listed.concat(page.filter(item => !seen.has(key(item))));
}

export class PagedList<S extends IPagingState> {
  constructor(
    initial: S,
    private readonly onChange: () => void = () => undefined
  ) {
    this._state = initial;
  }

  get state(): Readonly<S> {
    return this._state;
  }

  /** Show `state` instead; answers still on their way for the former state are dropped. Does not load. */
  reset(state: S): void {
    this._generation += 1;
    this.update(state);
  }

  /**
   * Load the first page again. `fetch` asks for it (answering null leaves the state as it is:
   * it may call `current` between two requests to see whether the list moved on), and `first`
   * answers what of the state the page replaces, the items above all. An error is shown with
   * what is listed kept, unless `failed` answers what to show instead (a "none yet", say).
   */
  async reload<P extends IPageAnswer>(
    fetch: (current: () => boolean) => Promise<P | null>,
    first: (page: P) => Partial<S>,
    failed: (error: unknown) => Partial<S> | null = () => null
  ): Promise<void> {
    const generation = ++this._generation;
    const current = () => generation === this._generation;
    this.update({ ...this._state, loading: true, error: null });
    try {
      const page = await fetch(current);
      if (page === null || !current()) {
        return;
      }
      this.update({
        ...this._state,
        ...first(page),
        nextCursor: page.next_cursor,
        loading: false,
        loaded: true,
        error: null
      });
    } catch (error) {
      if (!current()) {
        return;
      }
      this.update({ ...this._state, loading: false, loaded: true, error, ...failed(error) });
    }
  }

  /**
   * Load the page after the last one loaded; nothing when on the last page or busy. `fetch`
   * asks for the page at `cursor`, and `merge` answers what of the state changes when the page
   * joins what is listed (pages may overlap).
   */
  async loadMore<P extends IPageAnswer>(
    fetch: (cursor: string) => Promise<P>,
    merge: (state: Readonly<S>, page: P) => Partial<S>
  ): Promise<void> {
    const { nextCursor, loading } = this._state;
    if (nextCursor === null || loading) {
      return;
    }
    const generation = this._generation;
    this.update({ ...this._state, loading: true, error: null });
    try {
      const page = await fetch(nextCursor);
      if (generation !== this._generation) {
        return;
      }
      this.update({ ...this._state, ...merge(this._state, page), nextCursor: page.next_cursor, loading: false });
    } catch (error) {
      if (generation !== this._generation) {
        return;
      }
      this.update({ ...this._state, loading: false, error });
    }
  }

  /**
   * Ask for the first page again and merge it into what is listed, keeping the pages loaded
   * after it and where the next one starts: a poll for what changed at the top of the list.
   * `merge` answers what of the state changes. Nothing before the first page is loaded or while
   * a page is on its way.
   */
  async refreshFirst<P extends IPageAnswer>(
    fetch: () => Promise<P>,
    merge: (state: Readonly<S>, page: P) => Partial<S>
  ): Promise<void> {
    if (this._state.loading || !this._state.loaded) {
      return;
    }
    const generation = this._generation;
    try {
      const page = await fetch();
      if (generation === this._generation) {
        this.update({ ...this._state, ...merge(this._state, page), error: null });
      }
    } catch (error) {
      if (generation === this._generation) {
        this.update({ ...this._state, error });
      }
    }
  }

  private update(state: S): void {
    this._state = state;
    this.onChange();
  }

  private _state: S;
  private _generation = 0;
}
