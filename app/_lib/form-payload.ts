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

const FORM_BODY = /^(multipart\/form-data|application\/x-www-form-urlencoded)\s*(;|$)/i;
const MULTIPART = /^multipart\/form-data\s*(;|$)/i;
/**
 * The references React's encodeReply writes into an action's arguments for what our forms send: a
 * FormData ($K1), an escaped "$" ($$…), and the plain values a previous answer can hold. Anything
 * else (a Map, a Blob, a promise, a part that is not there) is not something our pages post, and
 * React would wait for a part that never comes: Next answers that with a 500.
 */
const REFERENCE = /^\$(K\d{1,6}|\$[\s\S]*|undefined|NaN|Infinity|-Infinity|-0|D[\s\S]*|n-?\d{1,400})$/;
const MAX_DEPTH = 64;

function knownReferences(root: unknown): boolean {
  const stack: [unknown, number][] = [[root, 0]];
  while (stack.length) {
    const [v, depth] = stack.pop()!;
    if (depth > MAX_DEPTH) return false;
    if (typeof v === "string") {
      if (v.startsWith("$") && !REFERENCE.test(v)) return false;
    } else if (v && typeof v === "object") for (const x of Object.values(v)) stack.push([x, depth + 1]);
  }
  return true;
}

/**
 * Whether a POST would reach Next's form or server action decoding with a body it cannot read,
 * which Next answers with a bare 500 before any of our code runs: a server action whose body is not
 * a form (Next would read `text/plain` as JSON arguments: `[null,"x"]` → `form.get is not a
 * function`), a multipart body that does not parse, or an action's arguments that are not the shape
 * React writes for a form. Reads a clone: the request's own body is left for Next.
 */
export async function unreadablePost(request: Request): Promise<boolean> {
  if (request.method !== "POST") return false;
  const type = request.headers.get("content-type") ?? "";
  const action = request.headers.has("next-action");
  if (action && !FORM_BODY.test(type)) return true;
  if (!MULTIPART.test(type)) return false;
  let form: FormData;
  try {
    form = await request.clone().formData();
  } catch {
    return true;
  }
  if (!action) return false;
  const root = form.get("0");
  if (typeof root !== "string") return true;
  try {
    const args: unknown = JSON.parse(root);
    return !Array.isArray(args) || !knownReferences(args);
  } catch {
    return true;
  }
}
