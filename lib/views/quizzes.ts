/**
 * The demo activity's question sets: one per subject, five questions each (every quiz is out of the
 * same QUIZ_MAXIMUM, which the teacher's page states). A link gets the set its subject names
 * (`quizFor` in learner.ts), so each demo course asks its own questions.
 */

export interface QuizQuestion {
  id: string;
  prompt: string;
  choices: { id: string; text: string }[];
  answer: string;
}

export interface QuizSet {
  /** Shown to the learner: "a short quiz on {topic}". */
  topic: string;
  /** Matched against the assignment's title, then the course's: the first set that matches is used. */
  subject: RegExp;
  questions: QuizQuestion[];
}

const LETTERS = ["a", "b", "c", "d"] as const;

/** Five questions, ids q1…q5, choices a…d; `answer` is the right choice's letter. */
function set(topic: string, subject: RegExp, rows: [prompt: string, choices: [string, string, string, string], answer: (typeof LETTERS)[number]][]): QuizSet {
  return {
    topic,
    subject,
    questions: rows.map(([prompt, choices, answer], i) => ({
      id: `q${i + 1}`,
      prompt,
      choices: choices.map((text, j) => ({ id: LETTERS[j], text })),
      answer,
    })),
  };
}

export const QUIZ_SETS: readonly QuizSet[] = [
  set("cells", /\bcells?\b|biology/i, [
    ["Which organelle makes most of a cell's ATP?", ["Nucleus", "Mitochondrion", "Golgi apparatus", "Ribosome"], "b"],
    ["What carries genetic information in most living things?", ["DNA", "ATP", "Glucose", "Cellulose"], "a"],
    ["Which structure do plant cells have and animal cells lack?", ["Cell membrane", "Cytoplasm", "Cell wall", "Nucleus"], "c"],
    ["Photosynthesis takes place mainly in the…", ["Chloroplasts", "Vacuoles", "Lysosomes", "Centrioles"], "a"],
    ["How many chromosomes does a typical human body cell have?", ["23", "44", "46", "48"], "c"],
  ]),
  set("genetics", /genetic|heredit|\bdna\b/i, [
    ["Which base pairs with adenine in DNA?", ["Cytosine", "Guanine", "Uracil", "Thymine"], "d"],
    ["An organism with two different alleles of a gene is…", ["Heterozygous", "Homozygous", "Haploid", "Recessive"], "a"],
    ["Crossing two Aa parents: what share of offspring is aa?", ["None", "One in four", "One in two", "Three in four"], "b"],
    ["Who worked out the laws of inheritance with pea plants?", ["Charles Darwin", "Rosalind Franklin", "Gregor Mendel", "Louis Pasteur"], "c"],
    ["A gene's instructions are first copied into…", ["Messenger RNA", "A protein", "A lipid", "Another gene"], "a"],
  ]),
  set("evolution", /evolution|darwin|natural selection/i, [
    ["Who proposed evolution by natural selection with Alfred Russel Wallace?", ["Gregor Mendel", "Charles Darwin", "Isaac Newton", "Carl Linnaeus"], "b"],
    ["Which islands' finches helped shape Darwin's ideas?", ["Canary Islands", "Hawaii", "Galápagos", "Madagascar"], "c"],
    ["Wings of bats and arms of humans, built from the same bones, are…", ["Vestigial structures", "Analogous structures", "Fossils", "Homologous structures"], "d"],
    ["Natural selection acts on differences that are…", ["Inherited", "Learned", "Chosen by the organism", "Caused by injury"], "a"],
    ["Bacteria that survive an antibiotic and multiply show…", ["Mutation on demand", "Selection for resistance", "Spontaneous generation", "Hibernation"], "b"],
  ]),
  set("organic synthesis", /\bsynthesis\b/i, [
    ["An ester is made from an alcohol and…", ["A carboxylic acid", "An alkane", "A ketone", "Water"], "a"],
    ["Which technique separates liquids by their boiling points?", ["Filtration", "Crystallisation", "Distillation", "Chromatography on paper"], "c"],
    ["A reaction's yield is 8 g of a possible 10 g. Its percentage yield is…", ["8 %", "80 %", "20 %", "125 %"], "b"],
    ["A catalyst speeds up a reaction by…", ["Raising the temperature", "Being used up", "Adding energy", "Lowering the activation energy"], "d"],
    ["Which test shows that a C=C double bond is present?", ["Bromine water loses its colour", "Limewater turns milky", "A glowing splint relights", "Litmus turns blue"], "a"],
  ]),
  set("organic chemistry", /chem/i, [
    ["What is the general formula of the alkanes?", ["CnH2n", "CnH2n+2", "CnH2n-2", "CnHn"], "b"],
    ["Which functional group do alcohols have?", ["–COOH", "–NH2", "–OH", "–CHO"], "c"],
    ["How many bonds does a carbon atom usually form?", ["Two", "Three", "Five", "Four"], "d"],
    ["Ethene (C2H4) belongs to the…", ["Alkenes", "Alkanes", "Alkynes", "Aromatics"], "a"],
    ["Molecules with the same formula but different structures are…", ["Isotopes", "Isomers", "Polymers", "Allotropes"], "b"],
  ]),
  set("the Silk Road", /silk road|trade route/i, [
    ["The Silk Road linked China with…", ["The Americas", "Australia", "The Mediterranean world", "Antarctica"], "c"],
    ["Which Venetian traveller wrote about his journey to Kublai Khan's court?", ["Marco Polo", "Vasco da Gama", "Ibn Battuta", "Zheng He"], "a"],
    ["Besides silk, which goods travelled west along the routes?", ["Potatoes", "Spices and paper", "Tobacco", "Maize"], "b"],
    ["Which disease is thought to have spread along trade routes in the 14th century?", ["Smallpox", "Malaria", "Polio", "The Black Death"], "d"],
    ["Samarkand, a great Silk Road city, is in today's…", ["Uzbekistan", "Egypt", "Japan", "Portugal"], "a"],
  ]),
  set("empires", /empire|history/i, [
    ["Which empire built the road network centred on Cusco?", ["The Aztec", "The Inca", "The Maya", "The Olmec"], "b"],
    ["Genghis Khan founded the…", ["Ottoman Empire", "Mughal Empire", "Mongol Empire", "Persian Empire"], "c"],
    ["The Western Roman Empire is usually said to have fallen in…", ["476 CE", "1066 CE", "1453 CE", "44 BCE"], "a"],
    ["Constantinople was the capital of the…", ["Holy Roman Empire", "Carolingian Empire", "Mali Empire", "Byzantine Empire"], "d"],
    ["Mansa Musa, famed for his wealth, ruled the…", ["Songhai Empire", "Mali Empire", "Ghana Empire", "Ethiopian Empire"], "b"],
  ]),
  set("limits", /limit|calculus|math/i, [
    ["What is the limit of 1/x as x grows without bound?", ["0", "1", "Infinity", "It does not exist"], "a"],
    ["What is the limit of (x² − 1)/(x − 1) as x approaches 1?", ["0", "1", "2", "It does not exist"], "c"],
    ["What is the limit of sin(x)/x as x approaches 0?", ["0", "Infinity", "π", "1"], "d"],
    ["A function is continuous at a point when its limit there…", ["Is zero", "Equals its value there", "Is infinite", "Is negative"], "b"],
    ["What is the limit of 3x + 2 as x approaches 2?", ["8", "6", "5", "2"], "a"],
  ]),
];
