// The Hugging Face inference client, pointed at the service as at a TEI endpoint:
//   node hf-feature-extraction.mjs <base URL> <text> [<text> ...]
// prints the client's result as JSON (for one text: its vector; for several: one vector each).
import { InferenceClient } from "@huggingface/inference";

const [endpointUrl, ...texts] = process.argv.slice(2);
const client = new InferenceClient();
const inputs = texts.length === 1 ? texts[0] : texts;
const output = await client.featureExtraction({ endpointUrl, inputs });
process.stdout.write(JSON.stringify(output));
