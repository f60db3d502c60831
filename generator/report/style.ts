/** Terminal colour, used only when the stream is a terminal and NO_COLOR is not set (https://no-color.org). */
export interface Style {
  green(text: string): string;
  yellow(text: string): string;
  red(text: string): string;
  bold(text: string): string;
  dim(text: string): string;
}

const paint = (code: number, reset: number) => (text: string) => `\u001b[${code}m${text}\u001b[${reset}m`;

export const COLOR: Style = { green: paint(32, 39), yellow: paint(33, 39), red: paint(31, 39), bold: paint(1, 22), dim: paint(2, 22) };
const same = (text: string) => text;
export const PLAIN: Style = { green: same, yellow: same, red: same, bold: same, dim: same };

export function colorWanted(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv): boolean {
  return stream.isTTY === true && !env.NO_COLOR;
}
