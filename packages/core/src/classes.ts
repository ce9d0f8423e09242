/** FER2013's seven classes, in label order. */
export const EMOTIONS = ['angry', 'disgust', 'fear', 'happy', 'sad', 'surprise', 'neutral'] as const;
export type Emotion = (typeof EMOTIONS)[number];
export const NUM_CLASSES = EMOTIONS.length;
export const IMAGE_SIZE = 48;
export const PIXELS_PER_IMAGE = IMAGE_SIZE * IMAGE_SIZE;

/** Accepts a class name (any case) or its index as a string; -1 when it is neither. */
export function emotionIndex(name: string): number {
  const n = name.trim().toLowerCase();
  if (/^[0-6]$/.test(n)) return Number(n);
  const aliases: Record<string, number> = {
    anger: 0,
    angry: 0,
    disgust: 1,
    disgusted: 1,
    fear: 2,
    fearful: 2,
    scared: 2,
    happy: 3,
    happiness: 3,
    sad: 4,
    sadness: 4,
    surprise: 5,
    surprised: 5,
    neutral: 6,
  };
  return aliases[n] ?? -1;
}
