// Rebuild artifacts.json: node src/fundtrail/chains/evm/contracts/compile.js src/fundtrail/chains/evm/contracts
const solc = require(require('path').resolve(__dirname, '../../../../../tools/node/node_modules/solc'));
const fs = require('fs');
const dir = process.argv[2];
const files = ['TestToken.sol', 'Forwarder.sol'];
const input = {language: 'Solidity', sources: {}, settings: {optimizer: {enabled: true, runs: 200}, evmVersion: 'paris',
  outputSelection: {'*': {'*': ['abi', 'evm.bytecode.object']}}}};
for (const f of files) input.sources[f] = {content: fs.readFileSync(dir + '/' + f, 'utf8')};
const out = JSON.parse(solc.compile(JSON.stringify(input)));
if (out.errors) { for (const e of out.errors) console.error(e.formattedMessage); if (out.errors.some(e => e.severity === 'error')) process.exit(1); }
const art = {compiler: 'solc ' + solc.version(), settings: {optimizer_runs: 200, evm_version: 'paris'}, contracts: {}};
for (const f of files) for (const [name, c] of Object.entries(out.contracts[f]))
  art.contracts[name] = {source: f, abi: c.abi, bytecode: '0x' + c.evm.bytecode.object};
fs.writeFileSync(dir + '/artifacts.json', JSON.stringify(art, null, 1) + '\n');
console.log(Object.keys(art.contracts));
