/** Where the simulator's web page is (its base URL): the conversations as DingTalk draws them, and the DingTalk side. */
export function sandboxLine(simUrl: string): string {
  return `See it as DingTalk shows it (cards, buttons, the API calls and faults): open ${simUrl}/ in a browser.\n`;
}
