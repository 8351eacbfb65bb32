// A catalog picture, made small enough for the API (40 KiB at most): the chosen file drawn on a
// canvas no larger than 256 px on its longer side and written as JPEG, lowering the quality
// until it fits. The server checks the bytes again.

const MAX_BYTES = 40 * 1024;
const SIDE = 256;

function dataUrlBytes(url: string): number {
  const b64 = url.slice(url.indexOf(',') + 1);
  return Math.floor((b64.length * 3) / 4) - (b64.endsWith('==') ? 2 : b64.endsWith('=') ? 1 : 0);
}

/** The file as a small JPEG data: URL, or an error saying why it cannot be one. */
export async function thumbnail(file: File): Promise<string> {
  if (!file.type.startsWith('image/')) throw new Error(`${file.name} is not a picture`);
  const bitmap = await createImageBitmap(file).catch(() => {
    throw new Error(`${file.name} could not be read as a picture`);
  });
  const scale = Math.min(1, SIDE / Math.max(bitmap.width, bitmap.height));
  const canvas = document.createElement('canvas');
  canvas.width = Math.max(1, Math.round(bitmap.width * scale));
  canvas.height = Math.max(1, Math.round(bitmap.height * scale));
  const ctx = canvas.getContext('2d');
  if (!ctx) throw new Error('this browser cannot draw pictures');
  ctx.fillStyle = '#fff';
  ctx.fillRect(0, 0, canvas.width, canvas.height);
  ctx.drawImage(bitmap, 0, 0, canvas.width, canvas.height);
  for (const quality of [0.85, 0.7, 0.55, 0.4]) {
    const url = canvas.toDataURL('image/jpeg', quality);
    if (dataUrlBytes(url) <= MAX_BYTES) return url;
  }
  throw new Error(`${file.name} is too detailed to fit in 40 KiB, even small`);
}
