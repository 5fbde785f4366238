import type { Writable } from 'node:stream';
import { createElement, useEffect, useState } from 'react';
import { Text, render } from 'ink';

const FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

/** An ink spinner with the current step, drawn on stderr. */
export function showSpinner(out: Writable, initial: string, color: boolean) {
  let setText: ((t: string) => void) | undefined;
  let pending = initial;
  function Spinner() {
    const [text, set] = useState(pending);
    const [frame, setFrame] = useState(0);
    setText = set;
    useEffect(() => {
      const t = setInterval(() => setFrame((f) => f + 1), 80);
      return () => clearInterval(t);
    }, []);
    return createElement(Text, null,
      createElement(Text, color ? { color: 'cyan' } : {}, FRAMES[frame % FRAMES.length]), ` ${text}`);
  }
  const app = render(createElement(Spinner), {
    stdout: out as NodeJS.WriteStream,
    patchConsole: false,
    exitOnCtrlC: false,
  });
  let stopped = false;
  return {
    update(t: string) {
      pending = t;
      setText?.(t);
    },
    stop(final?: string) {
      if (stopped) return;
      stopped = true;
      app.clear();
      app.unmount();
      if (final) out.write(`${final}\n`);
    },
  };
}
