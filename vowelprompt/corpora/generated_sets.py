"""The held-out benchmark sets whose voices are generated espeak-ng variants
(:mod:`vowelprompt.corpora.variants`): every espeak-ng English variant file is in an earlier set
(:mod:`vowelprompt.corpora.benchmark_sets`, which lists them all in ``SETS``)."""

from __future__ import annotations

#: The fourteenth held-out set, sealed before its audio was synthesised: every espeak-ng English voice variant
#: is in an earlier set, so its voices are generated variants (:mod:`vowelprompt.corpora.variants`, the first
#: four seeds) on the four varieties, with rates and ten sentences used nowhere else.
HELDOUT14_VOICES: tuple[str, ...] = (
    "en-us+gen1",
    "en-gb+gen2",
    "en-gb-scotland+gen3",
    "en-029+gen4",
)
HELDOUT14_RATES: tuple[int, ...] = (138, 182, 226)
HELDOUT14_SENTENCES: tuple[str, ...] = (
    "The farmer counted his sheep before the sun went down.",
    "A red kite floated high above the empty beach.",
    "Please leave your muddy boots outside the kitchen door.",
    "The teacher read a short poem to the sleepy class.",
    "Why is the coffee machine making that strange noise?",
    "My cousin found an old coin buried in the garden.",
    "The pilot waited for the fog to lift before take off.",
    "She folded the letter and slipped it into her coat.",
    "Two small boats were tied to the end of the pier.",
    "We walked along the canal until the lamps were lit.",
)
#: The fifteenth, sealed at the same release after the fourteenth was measured, for the next change (measured
#: once at the end of the next release): the next four generated variants, rates and ten sentences used
#: nowhere else.
HELDOUT15_VOICES: tuple[str, ...] = (
    "en-us+gen5",
    "en-gb+gen6",
    "en-gb-scotland+gen7",
    "en-029+gen8",
)
HELDOUT15_RATES: tuple[int, ...] = (142, 186, 234)
HELDOUT15_SENTENCES: tuple[str, ...] = (
    "The baker sold the last loaf just before closing time.",
    "A cold breeze came through the open kitchen window.",
    "His sister painted a tiny bird on the garden wall.",
    "Where did the children hide the spare house key?",
    "The doctor asked him to breathe slowly and deeply.",
    "We waited on the platform for the late evening train.",
    "A thin layer of snow covered the parked cars.",
    "The old radio crackled before the music started.",
    "They planted six apple trees along the northern fence.",
    "Her uncle repaired the broken chair with some glue.",
)
#: The sixteenth, sealed after the fifteenth was measured (at the end of the release that measured it), for
#: the next change: the next four generated variants, rates and ten sentences used nowhere else. Measured
#: once, after the liquids' limits of the boundary refinement were chosen on the tuning set.
HELDOUT16_VOICES: tuple[str, ...] = ("en-us+gen9", "en-gb+gen10", "en-gb-scotland+gen11", "en-029+gen12")
HELDOUT16_RATES: tuple[int, ...] = (146, 194, 239)
HELDOUT16_SENTENCES: tuple[str, ...] = (
    "The fisherman mended his nets on the stony shore.",
    "A yellow bus stopped outside the village school.",
    "Our neighbour plays the piano every Sunday morning.",
    "Who forgot to close the gate behind the horses?",
    "The nurse wrapped a clean bandage around his wrist.",
    "He carried the heavy boxes up to the attic.",
    "The museum opens late on the first Friday of the month.",
    "A gentle rain fell on the roofs of the quiet town.",
    "She poured the tea and passed around the biscuits.",
    "The students cheered when the results were announced.",
)
#: The seventeenth, sealed after the sixteenth was measured, for the next change: the next four generated
#: variants, rates and ten sentences used nowhere else. Measured once, after the syllabic /l/'s limit was
#: chosen on the tuning set.
HELDOUT17_VOICES: tuple[str, ...] = ("en-us+gen13", "en-gb+gen14", "en-gb-scotland+gen15", "en-029+gen16")
HELDOUT17_RATES: tuple[int, ...] = (148, 198, 246)
HELDOUT17_SENTENCES: tuple[str, ...] = (
    "The farmer loaded the hay onto the wooden cart.",
    "Did anyone see where I parked my bicycle?",
    "A small boat drifted past the lighthouse at noon.",
    "The chef tasted the soup and added more pepper.",
    "Her grandmother knitted a warm scarf for the winter.",
    "The library will stay open until nine tonight.",
    "Two pilots checked the engines before the long flight.",
    "The puppy chased its tail around the kitchen table.",
    "We climbed the steep hill to watch the sunrise.",
    "The mayor thanked the volunteers for their hard work.",
)
#: The eighteenth, sealed after the seventeenth was measured, for the next change. Measured once, after the
#: stalled-window guard of vowelprompt.align.windows was built (on set 17's recording).
HELDOUT18_VOICES: tuple[str, ...] = ("en-us+gen17", "en-gb+gen18", "en-gb-scotland+gen19", "en-029+gen20")
HELDOUT18_RATES: tuple[int, ...] = (152, 202, 252)
HELDOUT18_SENTENCES: tuple[str, ...] = (
    "The gardener trimmed the hedges along the narrow path.",
    "Can you hand me the blue folder on the desk?",
    "An old clock ticked loudly in the empty hallway.",
    "The pilot announced a short delay before takeoff.",
    "My cousin baked fresh bread for the whole family.",
    "The river froze early during that bitter winter.",
    "Three goats wandered into the neighbour's vegetable patch.",
    "She tied a red ribbon around the birthday present.",
    "The workers painted the bridge a bright shade of green.",
    "A quiet student asked a clever question after class.",
)
#: The nineteenth, sealed after the eighteenth was measured, for the next change. Measured once, with and
#: without the slip retry's pauses_out (vowelprompt.align.slips), which was built on the tuning set.
HELDOUT19_VOICES: tuple[str, ...] = ("en-us+gen21", "en-gb+gen22", "en-gb-scotland+gen23", "en-029+gen24")
HELDOUT19_RATES: tuple[int, ...] = (154, 204, 254)
HELDOUT19_SENTENCES: tuple[str, ...] = (
    "The fisherman's daughter sold fresh crabs at the market.",
    "Could you turn off the lamp beside the sofa?",
    "A flock of geese flew low over the frozen lake.",
    "The tailor measured his arms before cutting the cloth.",
    "Our teacher read us a story about a brave knight.",
    "The train rattled across the bridge in the dark.",
    "Four candles flickered on the old wooden shelf.",
    "He lost his keys somewhere between the bank and the bakery.",
    "The cat slept all afternoon in a patch of sunlight.",
    "Please write your name at the top of the page.",
)
#: The twentieth, sealed after the nineteenth was measured, for the next change. Measured once, with and
#: without the 30 ms slip trigger and the retry's shorter pauses (vowelprompt.align.slips), built on the
#: tuning set.
HELDOUT20_VOICES: tuple[str, ...] = ("en-us+gen25", "en-gb+gen26", "en-gb-scotland+gen27", "en-029+gen28")
HELDOUT20_RATES: tuple[int, ...] = (156, 206, 256)
HELDOUT20_SENTENCES: tuple[str, ...] = (
    "The plumber fixed the leaking pipe under the kitchen sink.",
    "Would you like some honey in your tea?",
    "A strong wind scattered the dry leaves across the yard.",
    "The actors rehearsed their lines until midnight.",
    "My grandfather planted apple trees behind the barn.",
    "The children built a snowman near the school gate.",
    "Two sailors rowed the small boat toward the harbour.",
    "She forgot her umbrella on the crowded bus.",
    "The mayor opened the new library on Monday morning.",
    "Every evening the baker swept the floor of his shop.",
)
#: The twenty-first, sealed after the twentieth was measured, for the next change.
HELDOUT21_VOICES: tuple[str, ...] = ("en-us+gen29", "en-gb+gen30", "en-gb-scotland+gen31", "en-029+gen32")
HELDOUT21_RATES: tuple[int, ...] = (158, 208, 258)
HELDOUT21_SENTENCES: tuple[str, ...] = (
    "The carpenter sanded the edges of the new cupboard.",
    "Could somebody explain how this strange machine works?",
    "The penguins walked slowly toward the icy water.",
    "The goalkeeper dived and caught the ball with both hands.",
    "His sister painted a portrait of their old dog.",
    "The bus driver waited for the last passenger to sit down.",
    "Our neighbours keep bees at the end of their garden.",
    "The mechanic wiped the grease from his hands.",
    "We heard an owl calling from the tall pine trees.",
    "Nobody noticed the small crack in the ceiling.",
)
