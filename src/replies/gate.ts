import { UNRELATED_SHARE, type Calibration } from '../index/calibration.js';
import type { ReplyShares } from '../retrieval/health.js';
import { percent, type Lang } from './texts.js';

/**
 * The "not covered" gates described for people: measured and stored by the index
 * (index/calibration.ts), applied by retrieval, told to the administrator here.
 */

/** The gate's description and warnings in one of the bot's languages (/stats, /reindex speak the admin's). */
interface GateTexts {
  label: string;
  /** The gate's figures (English also says how the index measured it, as it recorded it: in English). */
  gate: (c: Calibration) => string;
  support: (gate: string, share: string, pairs: number) => string;
  declinesOwn: (share: string, questions: number, max: string, median: string) => string;
  letsThrough: (share: string, probes: number, max: string) => string;
}

const f3 = (x: number) => x.toFixed(3);

export const GATE_TEXTS: Record<Lang, GateTexts> = {
  en: {
    label: '"not covered" gate for this model',
    gate: (c) =>
      `cosine ${f3(c.dense)} (${c.method}; ` +
      `off-topic median ${f3(c.probeScores.p50)}, max ${f3(c.probeScores.max)}; ` +
      `it keeps ${(100 * c.pseudo.kept).toFixed(0)} % of ${c.pseudo.questions} questions made from the passages)`,
    support: (gate, share, pairs) =>
      `what a question asks for must be in the passage as words or word forms, or reach cosine ${gate} by meaning ` +
      `(reached by ${share} of ${pairs} unrelated phrase–passage pairs)`,
    declinesOwn: (share, questions, max, median) =>
      `WARNING: the "not covered" gate declines ${share} of ${questions} questions made from the documents' own passages ` +
      `(more than ${max}), so many questions the documents answer will get "not covered". ` +
      `What to do: re-index once more (npm run index or /reindex); if this stays, the documents read like everyday questions or the model's scores are too close together for them: ` +
      `set DENSE_THRESHOLD to about ${median} (the median of those questions) or use a stronger embedding model.`,
    letsThrough: (share, probes, max) =>
      `WARNING: the "not covered" gate lets ${share} of ${probes} off-topic probe questions through (more than ${max}), ` +
      `so questions the documents do not answer will be answered with unrelated quotes. ` +
      `What to do: re-index once more (npm run index or /reindex); if this stays, the model gives everything the same score: use another embedding model.`,
  },
  ru: {
    label: 'порог «нет ответа» для этой модели',
    gate: (c) =>
      `косинус ${f3(c.dense)} (${c.probes} посторонних проверочных вопросов: ` +
      `медиана ${f3(c.probeScores.p50)}, максимум ${f3(c.probeScores.max)}; проходят ${percent(c.pseudo.kept)} из ` +
      `${c.pseudo.questions} вопросов, составленных по отрывкам)`,
    support: (gate, share, pairs) =>
      `то, о чём спрашивает вопрос, должно быть в отрывке словами или их формами либо достигать косинуса ${gate} по смыслу ` +
      `(его достигают ${share} из ${pairs} несвязанных пар фраза–отрывок)`,
    declinesOwn: (share, questions, max, median) =>
      `ВНИМАНИЕ: порог «нет ответа» отклоняет ${share} из ${questions} вопросов, составленных по отрывкам самих документов ` +
      `(больше ${max}), поэтому многие вопросы, на которые документы отвечают, получат «нет ответа». ` +
      `Что делать: переиндексировать ещё раз (npm run index или /reindex); если так и останется, задайте DENSE_THRESHOLD ` +
      `около ${median} (медиана этих вопросов) или возьмите более сильную модель эмбеддингов.`,
    letsThrough: (share, probes, max) =>
      `ВНИМАНИЕ: порог «нет ответа» пропускает ${share} из ${probes} посторонних проверочных вопросов (больше ${max}), ` +
      `поэтому на вопросы, на которые документы не отвечают, придут несвязанные цитаты. ` +
      `Что делать: переиндексировать ещё раз (npm run index или /reindex); если так и останется, модель оценивает всё одинаково: возьмите другую модель эмбеддингов.`,
  },
  az: {
    label: 'bu model üçün "cavab yoxdur" həddi',
    gate: (c) =>
      `kosinus ${f3(c.dense)} (${c.probes} kənar yoxlama sualı: ` +
      `median ${f3(c.probeScores.p50)}, maksimum ${f3(c.probeScores.max)}; keçidlərdən qurulmuş ` +
      `${c.pseudo.questions} sualdan ${percent(c.pseudo.kept)} keçir)`,
    support: (gate, share, pairs) =>
      `sualın soruşduğu keçiddə söz və ya söz formaları ilə olmalı, ya da məna üzrə kosinus ${gate} həddinə çatmalıdır ` +
      `(${pairs} əlaqəsiz ifadə–keçid cütündən ${share} çatır)`,
    declinesOwn: (share, questions, max, median) =>
      `DİQQƏT: "cavab yoxdur" həddi sənədlərin öz keçidlərindən qurulmuş ${questions} sualdan ${share} rədd edir ` +
      `(${max} həddindən çox), ona görə sənədlərin cavab verdiyi bir çox sual "cavab yoxdur" alacaq. ` +
      `Nə etməli: yenidən indeksləyin (npm run index və ya /reindex); belə qalarsa, DENSE_THRESHOLD-u təxminən ` +
      `${median} edin (bu sualların medianı) və ya daha güclü embedding modeli götürün.`,
    letsThrough: (share, probes, max) =>
      `DİQQƏT: "cavab yoxdur" həddi ${probes} kənar yoxlama sualından ${share} buraxır (${max} həddindən çox), ` +
      `ona görə sənədlərin cavab vermədiyi suallara əlaqəsiz sitatlar gələcək. ` +
      `Nə etməli: yenidən indeksləyin (npm run index və ya /reindex); belə qalarsa, model hər şeyə eyni qiymət verir: başqa embedding modeli götürün.`,
  },
  tr: {
    label: 'bu model için "cevap yok" eşiği',
    gate: (c) =>
      `kosinüs ${f3(c.dense)} (${c.probes} konu dışı deneme sorusu: ` +
      `medyan ${f3(c.probeScores.p50)}, en yüksek ${f3(c.probeScores.max)}; pasajlardan üretilen ` +
      `${c.pseudo.questions} sorudan ${percent(c.pseudo.kept)} geçiyor)`,
    support: (gate, share, pairs) =>
      `sorunun sorduğu şey pasajda sözcük ya da sözcük biçimi olarak bulunmalı veya anlamca ${gate} kosinüsüne ulaşmalı ` +
      `(${pairs} ilgisiz ifade–pasaj çiftinden ${share} ulaşıyor)`,
    declinesOwn: (share, questions, max, median) =>
      `UYARI: "cevap yok" eşiği belgelerin kendi pasajlarından üretilen ${questions} sorudan ${share} oranını reddediyor ` +
      `(${max} üstü); bu yüzden belgelerin yanıtladığı birçok soru "cevap yok" alacak. ` +
      `Ne yapmalı: yeniden dizinleyin (npm run index veya /reindex); böyle kalırsa DENSE_THRESHOLD değerini yaklaşık ` +
      `${median} yapın (bu soruların medyanı) ya da daha güçlü bir gömme modeli kullanın.`,
    letsThrough: (share, probes, max) =>
      `UYARI: "cevap yok" eşiği ${probes} konu dışı deneme sorusundan ${share} oranını geçiriyor (${max} üstü); ` +
      `bu yüzden belgelerin yanıtlamadığı sorulara ilgisiz alıntılar gelecek. ` +
      `Ne yapmalı: yeniden dizinleyin (npm run index veya /reindex); böyle kalırsa model her şeye aynı puanı veriyor: başka bir gömme modeli kullanın.`,
  },
};

/** One line for people: the gate and where it comes from, then any warning about its health. */
export function describeCalibration(c: Calibration, lang: Lang = 'en'): string {
  return `${GATE_TEXTS[lang].label}: ${gateFigures(c, lang)}`;
}

/** The gate's figures, the support gate's, then any warning (what /stats shows after its own label). */
export function gateFigures(c: Calibration, lang: Lang = 'en'): string {
  const t = GATE_TEXTS[lang];
  const share = `${(100 * UNRELATED_SHARE).toFixed(1)} %`;
  return [
    t.gate(c),
    ...(c.support ? [t.support(f3(c.support.gate), share, c.support.unrelated.pairs)] : []),
    ...gateWarnings(c, lang),
  ].join('\n');
}

/**
 * The gate is unhealthy when it declines more than this share of the collection's own
 * question-like texts, … (the measure is the dense side alone, which the lexical side often
 * rescues: with the test model a healthy small collection varies between 10 and 25 % as
 * documents come and go, the unhealthy case the issue saw declined 56–60 %.)
 */
const MAX_OWN_DECLINED = 0.3;
/** … or lets more than this share of the off-topic probes through. */
const MAX_PROBES_ACCEPTED = 0.1;

/**
 * Plain-words warnings when the measured gate would decline much of what the documents answer or
 * quote much of what they do not (after documents changed, or with a model whose scores crowd
 * together), with what to do. Empty when it is healthy.
 */
export function gateWarnings(c: Calibration, lang: Lang = 'en'): string[] {
  const t = GATE_TEXTS[lang];
  const warnings: string[] = [];
  if (1 - c.pseudo.kept > MAX_OWN_DECLINED)
    warnings.push(
      t.declinesOwn(percent(1 - c.pseudo.kept), c.pseudo.questions, percent(MAX_OWN_DECLINED), f3(c.pseudo.p50)),
    );
  const accepted = c.probeScores.accepted;
  if (accepted !== undefined && accepted > MAX_PROBES_ACCEPTED)
    warnings.push(t.letsThrough(percent(accepted), c.probes, percent(MAX_PROBES_ACCEPTED)));
  return warnings;
}

/** The replies to the collection's own question-like texts, for people (see retrieval/health.ts). */
export function describeReplyShares(s: ReplyShares): string {
  return (
    `replies to ${s.questions} questions made from the documents' own passages: ` +
    `sure ${percent(s.sure)}, unsure ${percent(s.unsure)}, not covered ${percent(s.declined)}`
  );
}
