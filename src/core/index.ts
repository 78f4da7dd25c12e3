export { type Clock, FakeClock, isoTime, scaledClock, systemClock } from './clock.ts';
export { AppError, type AppErrorOptions, type ErrorCategory, isAppError } from './errors.ts';
export { deterministicId, uuidv7 } from './ids.ts';
export { PollLoop, type PollLoopOptions, pollWaitMs } from './poll.ts';
