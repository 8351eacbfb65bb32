// Printing and saving a receipt or an offer's sticker. The page comes from the API (GET
// …/receipt or …/sticker, the same HTML for every client); it is printed from a hidden frame, so
// the dashboard around it never reaches the paper, through the print of the browser or of the
// desktop's webview (on Linux, the GTK print dialog, where the printer and the roll are chosen).

import type { LightningClient } from '@payaiml/lightning-js';
import { saleReceipt } from '../api/client';
import { saveText, type Saved } from './save';

export type Paper = '80mm' | 'a4';

/** Prints a self-contained HTML page from a hidden frame (a receipt, a Z-report). */
export async function printHtml(html: string, title: string): Promise<void> {
  const frame = document.createElement('iframe');
  frame.setAttribute('aria-hidden', 'true');
  frame.title = title;
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

/** The receipt page of a paid invoice (`inv_…`) or of a cash or card sale (`sale_…`). */
function receiptOf(client: LightningClient, id: string, paper: Paper): Promise<string> {
  return id.startsWith('sale_') ? saleReceipt(client, id, paper) : client.receipt(id, { paper });
}

/** Prints the receipt of the paid invoice or sale `id` on `paper`. */
export async function printReceipt(client: LightningClient, id: string, paper: Paper): Promise<void> {
  await printHtml(await receiptOf(client, id, paper), 'Receipt');
}

/** Saves the receipt as an HTML file (the customer's copy, to e-mail or keep). */
export async function saveReceipt(client: LightningClient, id: string, paper: Paper): Promise<Saved> {
  const html = await receiptOf(client, id, paper);
  return saveText(`receipt-${id}.html`, html, 'text/html;charset=utf-8');
}

/** Prints the sticker of the offer `id` on `paper`. */
export async function printSticker(client: LightningClient, id: string, paper: Paper): Promise<void> {
  await printHtml(await client.offerSticker(id, { paper }), 'Sticker');
}

/** Saves the offer's sticker as an HTML file (to print elsewhere, or at a print shop). */
export async function saveSticker(client: LightningClient, id: string, paper: Paper): Promise<Saved> {
  const html = await client.offerSticker(id, { paper });
  return saveText(`sticker-${id}.html`, html, 'text/html;charset=utf-8');
}
