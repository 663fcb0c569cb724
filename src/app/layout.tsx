import type { Metadata, Viewport } from "next";

import "~/styles/globals.css";
import { Providers } from "./providers";

export const metadata: Metadata = {
  title: { default: "Commy", template: "%s · Commy" },
  description: "Share data between processes at memory speed.",
  icons: [{ rel: "icon", url: "/favicon.svg", type: "image/svg+xml" }],
};

export const viewport: Viewport = {
  themeColor: [
    { media: "(prefers-color-scheme: light)", color: "#f8fafc" },
    { media: "(prefers-color-scheme: dark)", color: "#020617" },
  ],
};

/**
 * Runs before first paint: applies the stored theme, or the system one when none is stored,
 * so a dark-mode user never sees a white flash.
 */
const themeScript = `(function(){try{var t=localStorage.getItem("commy-theme");var d=t?t==="dark":matchMedia("(prefers-color-scheme: dark)").matches;document.documentElement.classList.toggle("dark",d);}catch(e){}})();`;

export default function RootLayout({ children }: Readonly<{ children: React.ReactNode }>) {
  return (
    <html lang="en" suppressHydrationWarning>
      <head>
        <script dangerouslySetInnerHTML={{ __html: themeScript }} />
      </head>
      <body className="min-h-screen font-sans">
        <Providers>{children}</Providers>
      </body>
    </html>
  );
}
