// Saving a file the dashboard made (the transactions CSV). In a browser: a download. In the
// desktop app the webview drops `<a download>` links to blob: URLs without a word, so the
// shell writes the file into the Downloads folder and says where (src-tauri/downloads.rs).

interface TauriGlobal { core: { invoke<T>(cmd: string, args?: Record<string, unknown>): Promise<T> } }

/** Where the file went: a full path from the desktop app, or the name the browser got. */
export interface Saved { name: string; path: string | null }

export async function saveText(name: string, text: string, type: string): Promise<Saved> {
  const tauri = (window as unknown as { __TAURI__?: TauriGlobal }).__TAURI__;
  if (tauri) {
    const path = await tauri.core.invoke<string>('save_download', { name, contents: text });
    return { name, path };
  }
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
  return { name, path: null };
}
