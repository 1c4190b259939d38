/**
 * What a server action is handed is whatever Next decoded from the POST, not what its signature says.
 * A form post (multipart or urlencoded) arrives as FormData; any other body is read by React's
 * decodeReply as JSON arguments, so `text/plain` `[null,"x"]` calls an action with (null, "x"), and
 * the first `form.get` would throw. Every action checks its payload on its first line.
 */
export const UNREADABLE_FORM = "This form could not be read. Reload the page, then submit it again.";

/** The form data, or null when the action was called with something else. */
export function formPayload(value: unknown): FormData | null {
  return value instanceof FormData ? value : null;
}

/** One text field of a form: a string, else (absent, or a file) null. */
export function field(form: FormData, name: string): string | null {
  const v = form.get(name);
  return typeof v === "string" ? v : null;
}
