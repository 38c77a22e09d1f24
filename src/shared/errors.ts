/**
 * Domain error types. Their names are listed in activity retry policies as non-retryable, so a
 * bad input or a failed data check ends the run at once instead of being retried forever.
 */
export const InvalidInputErrorType = 'InvalidInputError';
export const DataValidationErrorType = 'DataValidationError';
export const GateRejectedErrorType = 'GateRejectedError';
export const ModelVerificationErrorType = 'ModelVerificationError';
export const ExternalTrainerErrorType = 'ExternalTrainerError';
/** A route or rollout request that is malformed (bad weight, unknown or archived version). See src/serving/routes.ts. */
export const InvalidRouteErrorType = 'InvalidRouteError';
/** The database does not match what a route change assumed (baseline no longer production, nothing to promote). */
export const RouteConflictErrorType = 'RouteConflictError';
/** A canary rollout of the model is already running: one rollout per model at a time. */
export const RolloutInProgressErrorType = 'RolloutInProgressError';
/** An approval that cannot apply: no valid proof of an admin key, or the decision came too late. */
export const ApprovalRefusedErrorType = 'ApprovalRefusedError';

export const nonRetryableErrorTypes = [
  InvalidInputErrorType,
  DataValidationErrorType,
  GateRejectedErrorType,
  ModelVerificationErrorType,
  ExternalTrainerErrorType,
  InvalidRouteErrorType,
  RouteConflictErrorType,
  RolloutInProgressErrorType,
  ApprovalRefusedErrorType,
];

export class InvalidInputError extends Error {
  override readonly name = InvalidInputErrorType;
}

export class DataValidationError extends Error {
  override readonly name = DataValidationErrorType;
  constructor(
    message: string,
    readonly rule: string,
    readonly observed: unknown,
  ) {
    super(message);
  }
}

/** The ONNX export disagrees with the in-process model: never register such an artifact. */
export class ModelVerificationError extends Error {
  override readonly name = ModelVerificationErrorType;
}

/** A bring-your-own trainer failed (exit code, timeout, missing or malformed output). */
export class ExternalTrainerError extends Error {
  override readonly name = ExternalTrainerErrorType;
}
