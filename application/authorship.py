"""Who the files nhiemvu writes say made them, in their properties (Word's and Excel's
File › Info, a folder's Authors column): the secretariat, not the library that wrote
them ("python-docx", "openpyxl")."""

AUTHOR = "Văn phòng Ủy ban nhân dân thành phố Hải Phòng"
