-- CreateEnum
CREATE TYPE "RouteStatus" AS ENUM ('OK', 'DEGRADED', 'REFUSED');

-- CreateTable
CREATE TABLE "FileRoute" (
    "id" TEXT NOT NULL,
    "tenantId" TEXT NOT NULL,
    "sharedFileId" TEXT NOT NULL,
    "nodeId" TEXT NOT NULL,
    "transport" "Transport",
    "status" "RouteStatus" NOT NULL,
    "reasonCode" TEXT NOT NULL,
    "reason" TEXT NOT NULL,
    "inputs" JSONB NOT NULL DEFAULT '{}',
    "colocatedPeers" TEXT[],
    "remotePeers" TEXT[],
    "degradedPeers" TEXT[],
    "warnings" TEXT[],
    "stats" JSONB NOT NULL DEFAULT '{}',
    "decidedAt" TIMESTAMP(3) NOT NULL,
    "reportedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "FileRoute_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "FileRouteSample" (
    "id" BIGSERIAL NOT NULL,
    "tenantId" TEXT NOT NULL,
    "sharedFileId" TEXT NOT NULL,
    "nodeId" TEXT NOT NULL,
    "transport" "Transport",
    "at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "stats" JSONB NOT NULL,

    CONSTRAINT "FileRouteSample_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "FileRoute_tenantId_idx" ON "FileRoute"("tenantId");

-- CreateIndex
CREATE INDEX "FileRoute_nodeId_idx" ON "FileRoute"("nodeId");

-- CreateIndex
CREATE UNIQUE INDEX "FileRoute_sharedFileId_nodeId_key" ON "FileRoute"("sharedFileId", "nodeId");

-- CreateIndex
CREATE INDEX "FileRouteSample_sharedFileId_at_idx" ON "FileRouteSample"("sharedFileId", "at");

-- CreateIndex
CREATE INDEX "FileRouteSample_nodeId_at_idx" ON "FileRouteSample"("nodeId", "at");

-- CreateIndex
CREATE INDEX "FileRouteSample_tenantId_idx" ON "FileRouteSample"("tenantId");

-- AddForeignKey
ALTER TABLE "FileRoute" ADD CONSTRAINT "FileRoute_tenantId_fkey" FOREIGN KEY ("tenantId") REFERENCES "Tenant"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "FileRoute" ADD CONSTRAINT "FileRoute_sharedFileId_fkey" FOREIGN KEY ("sharedFileId") REFERENCES "SharedFile"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "FileRoute" ADD CONSTRAINT "FileRoute_nodeId_fkey" FOREIGN KEY ("nodeId") REFERENCES "Node"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "FileRouteSample" ADD CONSTRAINT "FileRouteSample_tenantId_fkey" FOREIGN KEY ("tenantId") REFERENCES "Tenant"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "FileRouteSample" ADD CONSTRAINT "FileRouteSample_sharedFileId_fkey" FOREIGN KEY ("sharedFileId") REFERENCES "SharedFile"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "FileRouteSample" ADD CONSTRAINT "FileRouteSample_nodeId_fkey" FOREIGN KEY ("nodeId") REFERENCES "Node"("id") ON DELETE CASCADE ON UPDATE CASCADE;
