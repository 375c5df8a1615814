import '@testing-library/jest-dom/vitest';
import { clearMocks } from '@tauri-apps/api/mocks';
import { afterEach, beforeAll } from 'vitest';

// jsdom does no layout: give elements a viewport-sized box so the virtualizer renders rows.
beforeAll(() => {
  Object.defineProperty(HTMLElement.prototype, 'offsetHeight', { configurable: true, get: () => 800 });
  Object.defineProperty(HTMLElement.prototype, 'offsetWidth', { configurable: true, get: () => 1200 });
});

afterEach(() => {
  clearMocks();
  // Remembered filters must not leak from one test into the next.
  localStorage.clear();
});
