import { SharedFileDetail } from "./shared-file-detail";

export default async function SharedFilePage({ params }: { params: Promise<{ fileName: string }> }) {
  const { fileName } = await params;
  return <SharedFileDetail name={decodeURIComponent(fileName)} />;
}
