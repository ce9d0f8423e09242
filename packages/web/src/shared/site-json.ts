/** site.json: what the page is told about the models it serves (written by siteFiles, read by the page). */
export interface SiteJson {
  /** The format of this file. */
  version: 1;
  /** The classes, in the models' output order (core's EMOTIONS). */
  classes: string[];
  /** The models' input: height, width, channels (48x48 grey) and its scale (bytes / 255). */
  input: { height: number; width: number; channels: number; scale: number };
  /** The models, averaged as an ensemble when there are several. */
  models: { name: string; url: string; architecture?: string; epochs?: number; testAccuracy?: number }[];
  /** face-api's weights: the folder (relative to the page) and which detector each source uses. */
  detector: { url: string; photo: 'ssd'; video: 'tiny'; videoInputSize: number; minScore: { ssd: number; tiny: number } };
  /** tfjs's wasm files, relative to the page. */
  wasm: string;
}

/** The Tiny Face Detector's input size on live video: a multiple of 32; smaller is faster and misses smaller faces. */
export const VIDEO_INPUT_SIZE = 224;
