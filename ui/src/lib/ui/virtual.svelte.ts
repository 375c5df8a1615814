// The rows of a long list that are on screen (STYLE: long lists are virtualized), for a
// list of fixed-height rows in a scrolling element: the users table, the activity log.
// Created while a component initialises: it follows the element and the row count with
// effects of that component.
import { createVirtualizer, type SvelteVirtualizer, type VirtualItem } from '@tanstack/svelte-virtual';
import { untrack } from 'svelte';

export interface VirtualOptions {
  /** The scrolling element, once bound. */
  element: () => HTMLDivElement | undefined;
  count: () => number;
  rowHeight: number;
  overscan: number;
  /** Space above the first row inside the element (a sticky header). */
  scrollMargin?: number;
}

export class VirtualRows {
  /** The rows to render, with their offsets. */
  items = $state.raw<VirtualItem[]>([]);
  /** The height of every row together. */
  totalSize = $state(0);
  #instance: SvelteVirtualizer<HTMLDivElement, HTMLDivElement> | null = null;

  constructor(options: VirtualOptions) {
    const virtualizer = createVirtualizer<HTMLDivElement, HTMLDivElement>({
      count: 0,
      getScrollElement: () => options.element() ?? null,
      estimateSize: () => options.rowHeight,
      overscan: options.overscan,
      scrollMargin: options.scrollMargin ?? 0,
    });
    $effect(() =>
      virtualizer.subscribe((v) => {
        this.#instance = v;
        this.items = v.getVirtualItems();
        this.totalSize = v.getTotalSize();
      }),
    );
    // The element is bound after the first render; the count changes with every page.
    $effect(() => {
      const count = options.count();
      const el = options.element();
      untrack(() => this.#instance?.setOptions({ count, getScrollElement: () => el ?? null }));
    });
  }

  /** Scrolls just enough for row `index` to be seen. */
  scrollTo(index: number): void {
    this.#instance?.scrollToIndex(index, { align: 'auto' });
  }
}
