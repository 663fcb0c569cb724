import type { Metadata } from "next";

import { SharedFilesList } from "./shared-files-list";

export const metadata: Metadata = { title: "Shared files" };

export default function SharedFilesPage() {
  return <SharedFilesList />;
}
