/**
 * UTF-8 text as base64 and back, without Node's Buffer, so that the library
 * runs in a browser. Configs keep text this way because tfjs-layers
 * camel-cases every string containing `_` when it loads a saved model's
 * optimizer config (`weight_decay` would become `weightDecay`).
 */
export function toBase64(text: string): string {
  let binary = '';
  for (const byte of new TextEncoder().encode(text)) binary += String.fromCharCode(byte);
  return btoa(binary);
}

export function fromBase64(b64: string): string {
  return new TextDecoder().decode(Uint8Array.from(atob(b64), (c) => c.charCodeAt(0)));
}
