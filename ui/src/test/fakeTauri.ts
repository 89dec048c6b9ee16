// A stand-in for @tauri-apps/api in unit tests: commands are answered by per-test
// handlers, events are emitted by the test. Used through vi.mock in each test file:
//   vi.mock('@tauri-apps/api/core', () => import('../test/fakeTauri').then((m) => m.core));
//   vi.mock('@tauri-apps/api/event', () => import('../test/fakeTauri').then((m) => m.event));

import { vi } from 'vitest';

type Handler = (args: Record<string, unknown>) => unknown;

const handlers = new Map<string, Handler>();
const listeners = new Map<string, Set<(event: { payload: unknown }) => void>>();

export const calls: { command: string; args: Record<string, unknown> }[] = [];

/** Answer `command` with `handler(args)`; a thrown value or rejected promise is the error. */
export function handle(command: string, handler: Handler): void {
  handlers.set(command, handler);
}

export function reset(): void {
  handlers.clear();
  listeners.clear();
  calls.length = 0;
}

export function callsOf(command: string): Record<string, unknown>[] {
  return calls.filter((c) => c.command === command).map((c) => c.args);
}

export function emit(event: string, payload: unknown): void {
  for (const listener of listeners.get(event) ?? []) listener({ payload });
}

export const core = {
  invoke: vi.fn(async (command: string, args: Record<string, unknown> = {}) => {
    calls.push({ command, args });
    const handler = handlers.get(command);
    if (!handler) throw { code: 'test.unhandled', message: `no handler for ${command}` };
    return handler(args);
  }),
};

export const event = {
  listen: vi.fn(async (name: string, callback: (event: { payload: unknown }) => void) => {
    const set = listeners.get(name) ?? new Set();
    set.add(callback);
    listeners.set(name, set);
    return () => set.delete(callback);
  }),
};
