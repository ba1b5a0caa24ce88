/** `2026-11-22 14:05` in the bot's timezone: how times are shown in chat. */
export function localTime(ms: number, timeZone: string): string {
  return new Date(ms).toLocaleString('sv-SE', { timeZone, hour12: false }).slice(0, 16);
}
