/** The trainer skeleton shared by SAM 2's and RP-SAM2's trainers (see trainer-skeleton.ts). */
export { TrainerSkeleton } from './trainer-skeleton.js';
export { JsonlLog, type JsonlLogLine } from './jsonl-log.js';
export { writeFileAtomically, parentDir } from './atomic-file.js';
