/**
 * Writes the binary fixtures of the format tests: a real PDF (text drawn with the standard Helvetica fonts, a numbered
 * section tree, a table and two pages) and a real DOCX (minimal OOXML: headings, paragraphs, a table), built byte by byte
 * so they need no office suite. Run it again after changing the content: `npx tsx knowledge/__fixtures__/make-fixtures.ts`.
 */
import { writeFileSync } from 'node:fs';
import { deflateRawSync } from 'node:zlib';

const here = (name: string) => new URL(`./${name}`, import.meta.url);

// ---------------------------------------------------------------------------------------------------------------------
// PDF

type PdfLine =
  | { kind: 'text'; text: string; size?: number; bold?: boolean; gapBefore?: number }
  | { kind: 'row'; cells: string[]; bold?: boolean };

const sopPages: PdfLine[][] = [
  [
    { kind: 'text', text: 'SOP-CAPA Corrective and preventive action', size: 18, bold: true },
    { kind: 'text', text: 'Document No.: SOP-CAPA   Revision: 3   Effective date: 2024-05-02', size: 9, gapBefore: 6 },
    { kind: 'text', text: '1 Purpose', size: 13, bold: true, gapBefore: 14 },
    {
      kind: 'text',
      text: 'This procedure defines how corrective and preventive actions are raised, carried out and checked',
    },
    { kind: 'text', text: 'for effectiveness after a deviation, a complaint or an audit finding.' },
    { kind: 'text', text: '4 Procedure', size: 13, bold: true, gapBefore: 14 },
    { kind: 'text', text: '4.1 Detection', size: 11, bold: true, gapBefore: 10 },
    {
      kind: 'text',
      text: 'The person who notices the deviation records it in the deviation log before the end of the shift.',
    },
    { kind: 'text', text: '4.2 Containment', size: 11, bold: true, gapBefore: 10 },
    {
      kind: 'text',
      text: 'Hold every lot produced since the last good in-process check. Label the pallets QUARANTINE and',
    },
    { kind: 'text', text: 'move them to the hold cage. Quality Assurance decides on release within 48 hours.' },
    { kind: 'text', text: 'Containment actions by risk class:', gapBefore: 8 },
    { kind: 'row', cells: ['Risk class', 'Containment', 'Approver'], bold: true },
    { kind: 'row', cells: ['Minor', 'Segregate the affected lot', 'Area supervisor'] },
    { kind: 'row', cells: ['Major', 'Hold all lots since last good check', 'QA'] },
    { kind: 'row', cells: ['Critical', 'Hold and notify customers', 'QA manager'] },
  ],
  [
    { kind: 'text', text: '4.3 Root cause', size: 11, bold: true },
    {
      kind: 'text',
      text: 'Investigate with a fishbone diagram and five whys; confirm the cause with data before acting.',
    },
    { kind: 'text', text: '5 Effectiveness check', size: 13, bold: true, gapBefore: 14 },
    {
      kind: 'text',
      text: 'Thirty days after the last action, check that the deviation has not recurred and Cpk is above 1.33.',
    },
  ],
];

const escapePdf = (text: string) => text.replace(/[\\()]/g, (match) => `\\${match}`);

function pdfPageContent(lines: PdfLine[], page: number, pages: number): string {
  const out: string[] = [];
  let y = 760;
  const columns = [72, 190, 400];
  for (const line of lines) {
    if (line.kind === 'text') {
      const size = line.size ?? 10;
      y -= (line.gapBefore ?? 0) + size + 4;
      out.push(`BT /${line.bold ? 'F2' : 'F1'} ${size} Tf 1 0 0 1 72 ${y} Tm (${escapePdf(line.text)}) Tj ET`);
    } else {
      y -= 14;
      line.cells.forEach((cell, index) => {
        out.push(`BT /${line.bold ? 'F2' : 'F1'} 10 Tf 1 0 0 1 ${columns[index]} ${y} Tm (${escapePdf(cell)}) Tj ET`);
      });
    }
  }
  out.push(`BT /F1 8 Tf 1 0 0 1 280 40 Tm (Page ${page} of ${pages}) Tj ET`);
  return out.join('\n');
}

/** A PDF 1.4 file with correct cross-reference offsets. */
function buildPdf(pages: PdfLine[][]): Buffer {
  const objects: string[] = [];
  const add = (body: string) => objects.push(body);
  const pageIds = pages.map((_, index) => 5 + index * 2);
  add('<< /Type /Catalog /Pages 2 0 R >>');
  add(`<< /Type /Pages /Kids [${pageIds.map((id) => `${id} 0 R`).join(' ')}] /Count ${pages.length} >>`);
  add('<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>');
  add('<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold /Encoding /WinAnsiEncoding >>');
  pages.forEach((lines, index) => {
    const content = pdfPageContent(lines, index + 1, pages.length);
    add(
      `<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 3 0 R /F2 4 0 R >> >> /Contents ${pageIds[index]! + 1} 0 R >>`,
    );
    add(`<< /Length ${Buffer.byteLength(content, 'latin1')} >>\nstream\n${content}\nendstream`);
  });
  let pdf = '%PDF-1.4\n%\xe2\xe3\xcf\xd3\n';
  const offsets: number[] = [];
  objects.forEach((body, index) => {
    offsets.push(Buffer.byteLength(pdf, 'latin1'));
    pdf += `${index + 1} 0 obj\n${body}\nendobj\n`;
  });
  const xref = Buffer.byteLength(pdf, 'latin1');
  pdf += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n`;
  for (const offset of offsets) pdf += `${String(offset).padStart(10, '0')} 00000 n \n`;
  pdf += `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  return Buffer.from(pdf, 'latin1');
}

// ---------------------------------------------------------------------------------------------------------------------
// DOCX: a ZIP of minimal OOXML parts.

const crcTable = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
const crc32 = (bytes: Buffer) => {
  let crc = 0xffffffff;
  for (const byte of bytes) crc = crcTable[(crc ^ byte) & 0xff]! ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
};

/** A ZIP archive (deflate), fixed timestamps so the file is reproducible. */
export function buildZip(files: Record<string, string>): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const [name, content] of Object.entries(files)) {
    const raw = Buffer.from(content, 'utf8');
    const data = deflateRawSync(raw);
    const nameBytes = Buffer.from(name, 'utf8');
    const header = Buffer.alloc(30);
    header.writeUInt32LE(0x04034b50, 0);
    header.writeUInt16LE(20, 4);
    header.writeUInt16LE(0, 6);
    header.writeUInt16LE(8, 8);
    header.writeUInt16LE(0, 10);
    header.writeUInt16LE(0x21, 12);
    header.writeUInt32LE(crc32(raw), 14);
    header.writeUInt32LE(data.length, 18);
    header.writeUInt32LE(raw.length, 22);
    header.writeUInt16LE(nameBytes.length, 26);
    header.writeUInt16LE(0, 28);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(0, 8);
    central.writeUInt16LE(8, 10);
    central.writeUInt16LE(0, 12);
    central.writeUInt16LE(0x21, 14);
    central.writeUInt32LE(crc32(raw), 16);
    central.writeUInt32LE(data.length, 20);
    central.writeUInt32LE(raw.length, 24);
    central.writeUInt16LE(nameBytes.length, 28);
    central.writeUInt32LE(offset, 42);
    locals.push(header, nameBytes, data);
    centrals.push(central, nameBytes);
    offset += header.length + nameBytes.length + data.length;
  }
  const centralSize = centrals.reduce((sum, part) => sum + part.length, 0);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(Object.keys(files).length, 8);
  end.writeUInt16LE(Object.keys(files).length, 10);
  end.writeUInt32LE(centralSize, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, ...centrals, end]);
}

const xmlEscape = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const paragraph = (text: string, style?: string) =>
  `<w:p>${style ? `<w:pPr><w:pStyle w:val="${style}"/></w:pPr>` : ''}<w:r><w:t xml:space="preserve">${xmlEscape(text)}</w:t></w:r></w:p>`;
const table = (rows: string[][]) =>
  `<w:tbl><w:tblPr><w:tblStyle w:val="TableGrid"/></w:tblPr>${rows
    .map((row) => `<w:tr>${row.map((cell) => `<w:tc>${paragraph(cell)}</w:tc>`).join('')}</w:tr>`)
    .join('')}</w:tbl>`;

function buildDocx(): Buffer {
  const body = [
    paragraph('WI-PK-030 Heat sealer jaw change', 'Heading1'),
    paragraph('Document No.: WI-PK-030  Revision: B  Effective date: 2024-09-16'),
    paragraph('1 Safety', 'Heading2'),
    paragraph('Lock out the sealer HS-101 and let the jaws cool below 40 °C before touching them.'),
    paragraph('2 Jaw change', 'Heading2'),
    paragraph('2.1 Removal', 'Heading3'),
    paragraph('Loosen the four M6 bolts of the upper jaw and lift it off the guide pins.'),
    paragraph('2.2 Settings after the change', 'Heading3'),
    paragraph('Set the recipe values from the table, then run ten test seals and check the peel strength.'),
    table([
      ['Film', 'Jaw temperature', 'Dwell time'],
      ['PET/PE 60 µm', '165 °C', '0.8 s'],
      ['PP 40 µm', '150 °C', '0.6 s'],
    ]),
  ].join('');
  const document = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>${body}</w:body></w:document>`;
  const headingStyle = (level: number) =>
    `<w:style w:type="paragraph" w:styleId="Heading${level}"><w:name w:val="heading ${level}"/></w:style>`;
  const styles = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<w:styles xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">${[1, 2, 3].map(headingStyle).join('')}<w:style w:type="table" w:styleId="TableGrid"><w:name w:val="Table Grid"/></w:style></w:styles>`;
  return buildZip({
    '[Content_Types].xml': `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/><Override PartName="/word/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.styles+xml"/></Types>`,
    '_rels/.rels': `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/></Relationships>`,
    'word/_rels/document.xml.rels': `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/></Relationships>`,
    'word/document.xml': document,
    'word/styles.xml': styles,
  });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  writeFileSync(here('sop-capa-rev3.pdf'), buildPdf(sopPages));
  writeFileSync(here('wi-pk-030.docx'), buildDocx());
  // A DOCX that is not a ZIP, and one that is a ZIP without word/document.xml.
  writeFileSync(here('corrupt.docx'), Buffer.from('PK\u0003\u0004 this is not really a zip archive', 'latin1'));
  writeFileSync(here('empty-package.docx'), buildZip({ 'readme.txt': 'no document part here' }));
}
