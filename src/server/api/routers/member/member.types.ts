import { z } from "zod";
import { ZChangeRoleInput, ZMember, ZMemberTargetInput } from "~/server/contracts/tenant";

export const ZListMembersResponseSchema = z.array(ZMember);
export const ZChangeRoleRequestSchema = ZChangeRoleInput;
export const ZChangeRoleResponseSchema = ZMember;
export const ZRemoveMemberRequestSchema = ZMemberTargetInput;
export const ZRemoveMemberResponseSchema = z.object({ userId: z.string() });
