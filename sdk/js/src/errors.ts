// Every failed call throws LightningApiError with the server's stable `code`, its human
// `message` and, when it concerns one field, `field`.

export class LightningApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly field?: string;

  constructor(status: number, code: string, message: string, field?: string) {
    super(message);
    this.name = 'LightningApiError';
    this.status = status;
    this.code = code;
    this.field = field;
  }
}
