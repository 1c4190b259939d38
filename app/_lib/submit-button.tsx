"use client";
/** A form's submit button that shows the post is under way (spinner, busy words, disabled) until the action answers. */
import { useFormStatus } from "react-dom";

export function SubmitButton({ label, busy, secondary, disabled, name, value }: { label: string; busy: string; secondary?: boolean; disabled?: boolean; name?: string; value?: string }) {
  const { pending } = useFormStatus();
  const off = pending || Boolean(disabled);
  return (
    <button type="submit" name={name} value={value} className={secondary ? "secondary" : undefined} disabled={off} aria-disabled={off}>
      <span className={pending ? "spinner" : "spinner idle"} aria-hidden="true" />
      {pending ? busy : label}
    </button>
  );
}
