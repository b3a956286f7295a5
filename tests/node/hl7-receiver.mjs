// An EHR's MLLP port played by Medplum's Hl7Server (@medplum/hl7): every message it receives is parsed by
// Medplum, answered with Medplum's own ACK (buildAck), and reported on stdout as one JSON line with the
// values Medplum read at the probes given as JSON in argv[2] ([["PID", 5, 1], ...]).
// The first stdout line is {"port": N}; closing stdin stops the server.
import { Hl7Server } from "@medplum/hl7";

const probes = JSON.parse(process.argv[2] ?? "[]");
const server = new Hl7Server((connection) => {
  connection.addEventListener("message", ({ message }) => {
    const read = {};
    for (const [name, field, component] of probes) {
      read[`${name}-${field}.${component}`] = message.getSegment(name)?.getComponent(field, component) ?? null;
    }
    const header = message.header;
    const type = `${header.getComponent(9, 1)}^${header.getComponent(9, 2)}`;
    console.log(JSON.stringify({ type, control: header.getField(10).toString(), read }));
    connection.send(message.buildAck());
  });
});
server.start(0);
server.server.on("listening", () => console.log(JSON.stringify({ port: server.server.address().port })));
process.stdin.resume();
process.stdin.on("end", async () => {
  await server.stop();
  process.exit(0);
});
