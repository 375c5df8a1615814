// Checks for the profile edits the detail panel queues: the same rules the server and
// the outbox apply (gatehouse_api::UserPatch::field_errors), told before anything is
// queued so a bad value never waits in the outbox to fail.
import { MAX_ATTRIBUTE_VALUE_CHARS, MAX_AVATAR_BYTES, MAX_CUSTOM_ATTRIBUTES, RESERVED_ATTRIBUTE_KEYS } from '../bindings';

/** Why `key` cannot be a new custom attribute of a user who has `existing`, or null. */
export function attributeKeyProblem(key: string, existing: Record<string, string>): string | null {
  if (!/^[a-z][a-z0-9_]{0,63}$/.test(key)) return 'A key is 1–64 lower-case letters, digits or _, starting with a letter.';
  if (RESERVED_ATTRIBUTE_KEYS.includes(key)) return 'This key names a built-in field; choose another.';
  if (key in existing) return 'This attribute is already set; change its value above.';
  if (Object.keys(existing).length >= MAX_CUSTOM_ATTRIBUTES) return `A user has at most ${MAX_CUSTOM_ATTRIBUTES} custom attributes.`;
  return null;
}

/** Why `value` cannot be a custom attribute's value, or null. */
export function attributeValueProblem(value: string): string | null {
  if ([...value].length > MAX_ATTRIBUTE_VALUE_CHARS) return `A value has at most ${MAX_ATTRIBUTE_VALUE_CHARS} characters.`;
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u0008\u000b-\u001f\u007f]/.test(value)) return 'A value cannot contain control characters.';
  return null;
}

/** Why `url` cannot be a picture URL, or null (an empty one removes the picture). */
export function pictureUrlProblem(url: string): string | null {
  if (url === '') return null;
  if (/\s/.test(url)) return 'A picture URL cannot contain spaces.';
  const host = url.startsWith('https://') ? url.slice(8).split(/[/?#]/)[0] : '';
  if (!host.includes('.') || host.includes('@')) return 'A picture URL must be an https:// address; or upload an image instead.';
  return null;
}

const IMAGE_TYPES = ['image/png', 'image/jpeg', 'image/gif', 'image/webp'];

/** Why `file` cannot be uploaded as a picture, or null (the server checks its bytes too). */
export function pictureFileProblem(file: { size: number; type: string }): string | null {
  if (!IMAGE_TYPES.includes(file.type)) return 'Choose a PNG, JPEG, GIF or WebP image.';
  if (file.size > MAX_AVATAR_BYTES) return `A picture is at most ${MAX_AVATAR_BYTES / 1024} KiB; choose a smaller one.`;
  return null;
}
