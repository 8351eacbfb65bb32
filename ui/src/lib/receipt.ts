// Printing and saving a receipt. The page comes from the API (GET …/receipt, the same HTML for
// every client); it is printed from a hidden frame, so the dashboard around it never reaches
// the paper, through the print of the browser or of the desktop's webview (on Linux, the GTK
// print dialog, where the printer and the roll are chosen).

import type { LightningClient } from '@payaiml/lightning-js';
import { saveText, type Saved } from './save';

export type Paper = '80mm' | 'a4';

/** Prints the receipt of the paid invoice `id` on `paper`. */
export async function printReceipt(client: LightningClient, id: string, paper: Paper): Promise<void> {
  const html = await client.receipt(id, { paper });
  const frame = document.createElement('iframe');
  frame.setAttribute('aria-hidden', 'true');
  frame.title = 'Receipt';
  frame.style.cssText = 'position:fixed;right:0;bottom:0;width:0;height:0;border:0;visibility:hidden';
  document.body.append(frame);
  await new Promise<void>((resolve) => {
    frame.onload = () => resolve();
    frame.srcdoc = html;
  });
  frame.contentWindow?.focus();
  frame.contentWindow?.print();
  // The print dialog holds the frame's document while it is open; it goes once that returns.
  setTimeout(() => frame.remove(), 1000);
}

/** Saves the receipt as an HTML file (the customer's copy, to e-mail or keep). */
export async function saveReceipt(client: LightningClient, id: string, paper: Paper): Promise<Saved> {
  const html = await client.receipt(id, { paper });
  return saveText(`receipt-${id}.html`, html, 'text/html;charset=utf-8');
}
