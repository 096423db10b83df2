public enum BoardPlaceholder {}
