-- Search filters on document fields (asset, plant, line, product family, document number) find their documents
-- through an index instead of reading every document: a filtered search first collects the chunks of the matching
-- documents, and scores them exactly when they are few (knowledge/search.ts). Kind has knowledge_documents_kind_status.
create index if not exists knowledge_documents_asset on knowledge_documents (asset);
create index if not exists knowledge_documents_plant on knowledge_documents (plant);
create index if not exists knowledge_documents_line on knowledge_documents (line);
create index if not exists knowledge_documents_product_family on knowledge_documents (product_family);
create index if not exists knowledge_documents_document_number on knowledge_documents (document_number);
