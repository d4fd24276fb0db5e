/**
 * Trainable parameters per Table 1 column, as the paper's header states them: what each method
 * trains on top of (or instead of) the released SAM 2. SAM 2 itself trains nothing; RP-SAM2 its
 * shift block; HQ-SAM2 the modules it adds to SAM 2's mask decoder (HQ token, its MLP, the
 * mask-feature convs); a SAM 2-architecture fine-tune (MedSAM2, Surgical SAM 2) its whole image
 * path, as they fine-tune the model end to end.
 */
import type { MaskDecoderHQ, Sam2Model } from '@rpsam2/sam2';

/** Trainable parameters of an extra row's model (see the file comment for the rule). */
export function extraTrainableParameters(model: Sam2Model): number {
  // The config's decoder kind, not instanceof: bench and sam2 may hold separate module copies.
  if (model.cfg.maskDecoder === 'hq') return (model.maskDecoder as MaskDecoderHQ).hqParamCount();
  return model.paramCount();
}
