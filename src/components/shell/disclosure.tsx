"use client";

import { type ReactNode, useEffect, useId, useRef, useState } from "react";

import { cn } from "../ui/cn";

/**
 * A button that opens a small panel of links/actions below it. Closes on Escape, on outside
 * click and when the user Tabs out of it. (A disclosure, not an ARIA menu: its items are ordinary links
 * and buttons, reachable with Tab.)
 */
export function Disclosure({
  button,
  buttonLabel,
  children,
  align = "left",
  className,
}: {
  button: ReactNode;
  /** Accessible name of the toggle button when `button` is not plain text. */
  buttonLabel?: string;
  children: (close: () => void) => ReactNode;
  align?: "left" | "right";
  className?: string;
}) {
  const [open, setOpen] = useState(false);
  const ref = useRef<HTMLDivElement>(null);
  // Close when the user Tabs out, but not when a page moves focus by itself (e.g. a form
  // field focused after a navigation): that would snap the panel shut under the pointer.
  const tabbing = useRef(false);
  const panelId = useId();
  useEffect(() => {
    if (!open) return;
    const onDown = (e: MouseEvent) => {
      if (ref.current && !ref.current.contains(e.target as Node)) setOpen(false);
    };
    const onKey = (e: KeyboardEvent) => {
      if (e.key === "Escape") setOpen(false);
    };
    document.addEventListener("mousedown", onDown);
    document.addEventListener("keydown", onKey);
    return () => {
      document.removeEventListener("mousedown", onDown);
      document.removeEventListener("keydown", onKey);
    };
  }, [open]);
  return (
    <div
      ref={ref}
      className={cn("relative", className)}
      onKeyDown={(e) => {
        tabbing.current = e.key === "Tab";
      }}
      onBlur={(e) => {
        if (!tabbing.current) return;
        tabbing.current = false;
        if (ref.current && !ref.current.contains(e.relatedTarget as Node | null)) setOpen(false);
      }}
    >
      <button
        type="button"
        aria-expanded={open}
        aria-controls={panelId}
        aria-label={buttonLabel}
        onClick={() => setOpen((o) => !o)}
        className="flex items-center gap-2 rounded-md px-2 py-1.5 text-sm font-medium text-slate-800 hover:bg-slate-100 dark:text-slate-100 dark:hover:bg-slate-800"
      >
        {button}
        <svg viewBox="0 0 20 20" fill="currentColor" className="size-4 text-slate-400" aria-hidden>
          <path
            fillRule="evenodd"
            d="M5.23 7.21a.75.75 0 011.06.02L10 11.17l3.71-3.94a.75.75 0 111.08 1.04l-4.25 4.5a.75.75 0 01-1.08 0l-4.25-4.5a.75.75 0 01.02-1.06z"
            clipRule="evenodd"
          />
        </svg>
      </button>
      <div
        id={panelId}
        hidden={!open}
        className={cn(
          "absolute z-30 mt-1 w-64 rounded-md bg-white py-1 shadow-lg ring-1 ring-slate-200 dark:bg-slate-900 dark:ring-slate-700",
          align === "right" ? "right-0" : "left-0",
        )}
      >
        {open ? children(() => setOpen(false)) : null}
      </div>
    </div>
  );
}

export const panelItem =
  "block w-full px-3 py-2 text-left text-sm text-slate-700 hover:bg-slate-100 dark:text-slate-200 dark:hover:bg-slate-800";
