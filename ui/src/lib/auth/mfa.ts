// Pure helpers for enrolling an authenticator app.

/** A base32 secret in blocks of four ("JBSW Y3DP EHPK 3PXP"), easier to type by hand. */
export function groupSecret(secret: string): string {
  return (secret.replace(/\s+/g, '').match(/.{1,4}/g) ?? []).join(' ');
}

/** What the code field keeps of what was typed or pasted: digits, at most `digits` of them. */
export function codeDigits(value: string, digits: number): string {
  return value.replace(/\D/g, '').slice(0, digits);
}
